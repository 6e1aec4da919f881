#!/usr/bin/env python3
"""Audio gaps over 200 ms in a `bbt-bench rural --trace` run, each with its class.

Usage: python3 tests/bench/rural_gaps.py RUNDIR/trace.csv [...]
       python3 tests/bench/rural_gaps.py --breaks RUNDIR/trace.csv [...]

A gap is two audio frames taken one after the other (trace.csv `frame` rows of the audio
track, 3 in the bench's stream) arriving more than 200 ms apart, as the bench counts
`audio_gaps_over_200ms`. Its class: `start` in the first 5 s; `fall` within 3 s of the link
changing to its lowest rate (`link` rows); else the link's rate then (`p300`, `p2000`, ...;
`p_initial` before the first change: the profile's starting rate).
Prints per file: the count, then (start s, length ms, class, seconds since the last change).

--breaks: the shorter breaks too, as docs/PERFORMANCE.md session 17 counts them: gaps in the
audio taken over 80, 100, 120, 150 and 200 ms, after the first 5 s, per run (the mean over the
files given), in the link's lowest-rate phases / the others.
"""
import csv
import sys

AUDIO_TRACK = '3'


def read_trace(path):
    """The audio frames' arrival times, the link's rate changes (time, kbit/s), its lowest rate."""
    rows = list(csv.reader(open(path)))[1:]
    audio = [float(r[0]) for r in rows if r[1] == 'frame' and r[2] == AUDIO_TRACK]
    links = [(float(r[0]), int(r[2])) for r in rows if r[1] == 'link']
    return audio, links, min((k for _, k in links), default=None)


def gaps(path):
    audio, links, low = read_trace(path)
    out = []
    for t0, t1 in zip(audio, audio[1:]):
        if t1 - t0 <= 0.2:
            continue
        before = [l for l in links if l[0] <= t1]
        rate = before[-1][1] if before else None
        since = t1 - before[-1][0] if before else t1
        if t1 < 5:
            kind = 'start'
        elif rate is not None and rate == low and since < 3.0:
            kind = 'fall'
        else:
            kind = 'p%s' % (rate if rate is not None else '_initial')
        out.append((round(t0, 2), round((t1 - t0) * 1000), kind, round(since, 1)))
    return out


BREAKS_MS = (80, 100, 120, 150, 200)


def breaks(path):
    """{(threshold ms, 'low' or 'other'): count} for one trace."""
    audio, links, low = read_trace(path)
    out = {(ms, ph): 0 for ms in BREAKS_MS for ph in ('low', 'other')}
    for t0, t1 in zip(audio, audio[1:]):
        if t1 < 5:
            continue
        before = [l for l in links if l[0] <= t1]
        phase = 'low' if before and before[-1][1] == low else 'other'
        for ms in BREAKS_MS:
            if (t1 - t0) * 1000 > ms:
                out[(ms, phase)] += 1
    return out


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == '--breaks':
        files = sys.argv[2:]
        if not files:
            sys.exit(__doc__)
        total = {}
        for p in files:
            for k, v in breaks(p).items():
                total[k] = total.get(k, 0) + v
        for ph in ('low', 'other'):
            print('%s-rate phases, per run:' % ph, ' '.join(
                '>%d ms %.1f' % (ms, total[(ms, ph)] / len(files)) for ms in BREAKS_MS))
        sys.exit(0)
    for p in sys.argv[1:]:
        g = gaps(p)
        print(p, len(g), g)
