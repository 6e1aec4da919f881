/* proto/control_params.h — the row builders of the control messages' parameter tables
 * (control_tables*.c; the row type is bbt_param in control_internal.h). One row per member:
 * its name, JSON type, flags (REQ / OPT, plus BBT_P_* formats), bounds (string bytes, integer
 * values, array items), a nested table for objects and arrays of objects, the choices of an
 * enumeration, and the item type of an array. Only the table files include this. */
#ifndef BBT_CONTROL_PARAMS_H
#define BBT_CONTROL_PARAMS_H

#include "control_internal.h"

#define P_STR(n, fl, lo, hi) { (n), BBT_PT_STRING, (fl), (lo), (hi), NULL, NULL, BBT_PT_STRING }
#define P_IDENT(n, fl) { (n), BBT_PT_STRING, (fl) | BBT_P_IDENT, 1, BBT_IDENT_MAX, NULL, NULL, 0 }
#define P_FMT(n, fl, f) { (n), BBT_PT_STRING, (fl) | (f), 0, 0, NULL, NULL, BBT_PT_STRING }
#define P_ENUM(n, fl, ch) { (n), BBT_PT_STRING, (fl), 0, 0, NULL, (ch), BBT_PT_STRING }
#define P_INT(n, fl, lo, hi) { (n), BBT_PT_INT, (fl), (lo), (hi), NULL, NULL, BBT_PT_STRING }
#define P_NUM(n, fl, lo, hi) { (n), BBT_PT_NUMBER, (fl), (lo), (hi), NULL, NULL, BBT_PT_STRING }
#define P_BOOL(n, fl) { (n), BBT_PT_BOOL, (fl), 0, 0, NULL, NULL, BBT_PT_STRING }
#define P_OBJ(n, fl, f) { (n), BBT_PT_OBJECT, (fl), 0, 0, (f), NULL, BBT_PT_STRING }
#define P_ARR(n, fl, lo, hi, f) { (n), BBT_PT_ARRAY, (fl), (lo), (hi), (f), NULL, BBT_PT_OBJECT }
#define P_IDS(n, fl, lo, hi) { (n), BBT_PT_ARRAY, (fl), (lo), (hi), NULL, NULL, BBT_PT_STRING }
#define P_REF(n, fl) { (n), BBT_PT_REF, (fl), 0, 0, NULL, NULL, BBT_PT_STRING }
#define P_END { NULL, BBT_PT_STRING, 0, 0, 0, NULL, NULL, BBT_PT_STRING }

#define REQ BBT_P_REQUIRED
#define OPT 0u
#define NUL_OK BBT_P_NULLABLE
#define BIG BBT_JSON_INT_MAX

#endif
