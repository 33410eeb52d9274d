// CPU time per request, in process: each operation sent one at a time through a Yoga instance's `fetch` (no HTTP,
// no load generator beside it), timed with process.cpuUsage. On a shared machine a neighbour slows the wall clock
// but barely the CPU this process spends, so these figures hold better than requests per second under load.
import { BenchmarkFailure } from "./benchmark.ts";
import { envNumber } from "./load.ts";
import { median } from "./rounds.ts";

type Fetching = { fetch(url: string, init: RequestInit): Response | Promise<Response> };

export type CpuCase = { name: string; yoga: Fetching; query: string; headers?: Record<string, string> };

/** Milliseconds of CPU (user + system) per request for each case: the median of BENCH_ROUNDS rounds. */
export async function cpuPerRequest(cases: CpuCase[], requests = envNumber("BENCH_CPU_REQUESTS", 300)) {
  const rounds = envNumber("BENCH_ROUNDS", 3);
  const ask = async ({ yoga, query, headers }: CpuCase) => {
    const response = await yoga.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    if (!response.ok || text.includes('"errors"')) {
      throw new BenchmarkFailure(`in-process request failed: ${response.status} ${text.slice(0, 300)}`);
    }
  };
  const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      for (let i = 0; i < (round === 0 ? 200 : 50); i++) await ask(c); // warm-up (JIT, caches)
      const before = process.cpuUsage();
      for (let i = 0; i < requests; i++) await ask(c);
      const used = process.cpuUsage(before);
      results.get(c.name)?.push((used.user + used.system) / 1000 / requests);
    }
  }
  return new Map([...results].map(([name, values]) => [name, median(values)]));
}
