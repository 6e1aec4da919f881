/* relay/schedule/problem.h — a list of problems found in a timetable or a CSV file, each with
 * the CSV line it concerns (0: none) and its text in English and in Simplified Chinese.
 *
 * The list keeps the first BBT_PROBLEMS_MAX problems and counts the rest (`more`), so a file
 * of garbage cannot exhaust memory. Allocation failure is sticky (`nomem`): adding never fails
 * visibly, the caller checks once. Texts are printf formats with the SAME arguments in the
 * same order in both languages. Owned by the list; bbt_problems_free releases everything. */
#ifndef BBT_SCHED_PROBLEM_H
#define BBT_SCHED_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define BBT_PROBLEMS_MAX 1000
#define BBT_PROBLEM_TEXT_MAX 512

typedef struct bbt_problem {
    int line;
    char *en, *zh;
} bbt_problem;

typedef struct bbt_problems {
    bbt_problem *v;
    size_t n, cap;
    size_t more;  /* problems found beyond BBT_PROBLEMS_MAX */
    bool nomem;
} bbt_problems;

void bbt_problems_init(bbt_problems *p);
void bbt_problems_free(bbt_problems *p);
/* Number of problems found (kept and counted). */
size_t bbt_problems_total(const bbt_problems *p);
void bbt_problemf(bbt_problems *p, int line, const char *en_fmt, const char *zh_fmt, ...)
    __attribute__((format(printf, 3, 5)));
/* Add texts already made (copied). */
void bbt_problem_add(bbt_problems *p, int line, const char *en, const char *zh);
/* When the two languages need different arguments:
 *     BBT_PROBLEM(p, line, ("on %s %s", wd_en, date), ("%s（%s）", date, wd_zh));
 * (both formats are checked by the compiler). */
#define BBT_PROBLEM_ARGS_(...) __VA_ARGS__
#define BBT_PROBLEM(p, line, en, zh)                                                 \
    do {                                                                             \
        char en_[BBT_PROBLEM_TEXT_MAX], zh_[BBT_PROBLEM_TEXT_MAX];                   \
        snprintf(en_, sizeof en_, BBT_PROBLEM_ARGS_ en);                             \
        snprintf(zh_, sizeof zh_, BBT_PROBLEM_ARGS_ zh);                             \
        bbt_problem_add((p), (line), en_, zh_);                                      \
    } while (0)
/* Stable sort by line (problems without a line first). */
void bbt_problems_sort(bbt_problems *p);

#endif
