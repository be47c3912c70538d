"""Knowledge-base search: latency of one `kb_search.search` call on 100,000 articles.

Each measured query is what the Knowledge base screen's worker does: open a read
transaction, `search(query=...)`, close it. Targets, on SQLite and on PostgreSQL:

- a two-word query: p95 under 20 ms;
- an as-you-type prefix query on a 3-letter prefix: p95 under 100 ms.

The articles are generated: titles of 3 to 8 content words, bodies of 40 to 200 words
drawn from a 20,000-word vocabulary with a Zipf distribution (a few words are in nearly
every article, as "the" or "printer" would be), 1 to 4 tags. Queries take their words from
the title of a random article, as an agent types the words of what the caller asks about.
Two more query sets are reported but carry no target: the two-word query while the last
word is still being typed (prefix), and two of the most common words (stop-word-like,
the worst case for ranking).

The database is built once and reused (`--rebuild` to start over).

    .venv/bin/python benchmarks/bench_kb.py                   # both databases
    .venv/bin/python benchmarks/bench_kb.py --only sqlite --json
    .venv/bin/python benchmarks/bench_kb.py --articles 20000 --queries 100
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import insert, text  # noqa: E402

from cc_tui.clock import now as utcnow  # noqa: E402
from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from cc_tui.models import Agent, KbArticle  # noqa: E402
from common import drop_pg, log, pg_url  # noqa: E402

TARGETS_P95_MS = {"two_words": 20.0, "prefix_3": 100.0}
VOCABULARY = 20_000
# The most common words are the stop-word-like ones: titles use the words after them.
COMMON = 100
KINDS = ("script", "script", "script", "phone", "url")


# ---------------------------------------------------------------------------- building


def vocabulary(rng: random.Random) -> list[str]:
    """Pronounceable made-up words, some with accents (to be folded)."""
    onsets = [
        "b",
        "c",
        "d",
        "f",
        "g",
        "h",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "w",
        "z",
        "br",
        "dr",
        "fr",
        "gr",
        "kr",
        "pr",
        "st",
        "sch",
        "tr",
        "ch",
    ]
    vowels = ["a", "e", "i", "o", "u", "ä", "ö", "ü", "é", "ei", "au"]
    words: set[str] = set()
    while len(words) < VOCABULARY:
        syllables = rng.choice((1, 2, 2, 3, 3, 4))
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
        if rng.random() < 0.3:
            word += rng.choice("nrstlkm")
        words.add(word)
    return sorted(words, key=lambda w: (len(w), w))


class Zipf:
    """Draws word ranks with P(rank k) proportional to 1/k."""

    def __init__(self, n: int, rng: random.Random) -> None:
        weights = [1.0 / k for k in range(1, n + 1)]
        total = sum(weights)
        self.cumulative: list[float] = []
        acc = 0.0
        for w in weights:
            acc += w / total
            self.cumulative.append(acc)
        self.rng = rng

    def draw(self, low: int = 0) -> int:
        import bisect

        while True:
            k = bisect.bisect_left(self.cumulative, self.rng.random())
            if k >= low:
                return min(k, len(self.cumulative) - 1)


def articles(count: int, words: list[str], seed: int, author_id: int):
    rng = random.Random(seed)
    zipf = Zipf(len(words), rng)
    tags = words[COMMON : COMMON + 300]
    now = utcnow()
    for i in range(count):
        title = " ".join(words[zipf.draw(COMMON)] for _ in range(rng.randint(3, 8)))
        body_words = [words[zipf.draw()] for _ in range(rng.randint(40, 200))]
        for cut in range(12, len(body_words), rng.randint(10, 16)):
            body_words[cut] += "."
        yield {
            "slug": f"article-{i:06d}",
            "kind": rng.choice(KINDS),
            "title": title.capitalize()[:300],
            "body": " ".join(body_words),
            "url": None,
            "link_slug": None,
            "tags": " ".join(sorted(set(rng.sample(tags, rng.randint(1, 4))))),
            "status": "published" if rng.random() < 0.95 else "draft",
            "review_on": None,
            "author_id": author_id,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }


def prepare(db: Database, count: int, seed: int) -> str:
    upgrade(db)
    with db.engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM kb_article")).scalar_one()
    if have >= count:
        return f"reused {have} articles"
    started = time.monotonic()
    with db.session() as session:
        author = session.execute(text("SELECT id FROM agent ORDER BY id LIMIT 1")).scalar()
        if author is None:
            agent = Agent(login="bench", name="Bench", role="admin")
            session.add(agent)
            session.flush()
            author = agent.id
    words = vocabulary(random.Random(seed))
    batch: list[dict] = []
    table = KbArticle.__table__
    done = 0
    for row in articles(count, words, seed, author):
        if done < have:
            done += 1
            continue
        batch.append(row)
        if len(batch) == 2000:
            with db.engine.begin() as conn:
                conn.execute(insert(table), batch)
            done += len(batch)
            batch = []
            if done % 20_000 == 0:
                log(f"  {done} articles")
    if batch:
        with db.engine.begin() as conn:
            conn.execute(insert(table), batch)
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("INSERT INTO kb_article_fts(kb_article_fts) VALUES ('optimize')")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE kb_article")
    return f"generated {count - have} articles in {time.monotonic() - started:.0f} s"


# ---------------------------------------------------------------------------- measuring


def query_sets(db: Database, n: int, seed: int) -> dict[str, list[tuple[str, bool]]]:
    """(query, prefix_last) per query set, words taken from random articles' titles."""
    rng = random.Random(seed + 1)
    with db.engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM kb_article")).scalar_one()
        titles = []
        while len(titles) < n:
            picked = rng.sample(range(1, top + 1), min(n * 2, top))
            ids = ",".join(str(i) for i in picked)
            rows = conn.execute(text(f"SELECT title FROM kb_article WHERE id IN ({ids})")).scalars()
            titles += [t for t in rows if len(t.split()) >= 2]
    # The same word list the articles were built from; its first words are the most common.
    common = vocabulary(random.Random(seed))[:10]
    sets: dict[str, list[tuple[str, bool]]] = {
        "two_words": [],
        "two_words_typing": [],
        "prefix_3": [],
        "common_pair": [],
    }
    for title in titles[:n]:
        first, second = rng.sample(title.lower().split(), 2)
        sets["two_words"].append((f"{first} {second}", False))
        sets["two_words_typing"].append((f"{first} {second[: max(3, len(second) - 2)]}", True))
        sets["prefix_3"].append((rng.choice(title.lower().split())[:3], True))
        sets["common_pair"].append((" ".join(rng.sample(common, 2)), False))
    return sets


def measure(
    db: Database, queries: list[tuple[str, bool]]
) -> tuple[list[float], list[float], list[int]]:
    """Wall-clock and this process's CPU time per query (on a loaded machine the CPU time
    shows the work itself; on SQLite it is all of it, on PostgreSQL the client's part)."""
    from cc_tui.services.kb.search import search

    times: list[float] = []
    cpu: list[float] = []
    found: list[int] = []
    for query, prefix in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        with db.session(write=False) as session:
            hits = search(session, query=query, prefix_last=prefix)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        found.append(len(hits))
    return times, cpu, found


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(pct(0.95), 2),
        "p99_ms": round(pct(0.99), 2),
        "max_ms": round(ordered[-1], 2),
    }


def run(name: str, url: str, args: argparse.Namespace) -> dict:
    db = Database(url)
    log(f"{name}: {db.describe()}")
    how = prepare(db, args.articles, args.seed)
    log(f"  data: {how}")
    with db.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM kb_article")).scalar_one()
    sets = query_sets(db, args.queries, args.seed)
    for queries in sets.values():
        measure(db, queries[:20])  # warm the caches
    result: dict = {"database": name, "data": how, "articles": count}
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    for key, queries in sets.items():
        times, cpu, found = measure(db, queries)
        result[key] = summary(times)
        result[key]["cpu_median_ms"] = summary(cpu)["median_ms"]
        result[key]["cpu_p95_ms"] = summary(cpu)["p95_ms"]
        result[key]["with_results"] = sum(1 for n in found if n)
        result[key]["example"] = queries[0][0]
    result["targets_p95_ms"] = TARGETS_P95_MS
    result["ok"] = all(result[k]["p95_ms"] < v for k, v in TARGETS_P95_MS.items())
    db.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="queries per query set")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--sqlite-path", default="/tmp/cc-tui-bench/kb.sqlite3")
    parser.add_argument("--pg-database", default="cct_bench_kb")
    parser.add_argument("--rebuild", action="store_true", help="drop and build the data again")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    results = []
    if args.only in (None, "sqlite"):
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        results.append(run("sqlite", f"sqlite:///{path}", args))
    if args.only in (None, "postgresql"):
        if args.rebuild:
            drop_pg(args.pg_database)
        results.append(run("postgresql", pg_url(args.pg_database), args))

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(
                f"{r['database']}: {r['articles']} articles ({r['data']}), "
                f"load average {r['load_average']}"
            )
            for key, value in r.items():
                if isinstance(value, dict) and "p95_ms" in value:
                    target = TARGETS_P95_MS.get(key)
                    verdict = f"  target < {target:g} ms" if target else "  (no target)"
                    print(
                        f"  {key:<17} n={value['n']:<4} median {value['median_ms']:>7} ms  "
                        f"p95 {value['p95_ms']:>7} ms  max {value['max_ms']:>7} ms  "
                        f"cpu p95 {value['cpu_p95_ms']:>6} ms  "
                        f"found {value['with_results']:>3}/{value['n']}  "
                        f"e.g. {value['example']!r}{verdict}"
                    )
            print(f"  targets met: {'yes' if r['ok'] else 'NO'}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
