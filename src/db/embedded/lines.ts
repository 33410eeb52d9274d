import type { ChildProcess } from "node:child_process";

/** Environment for the PostgreSQL processes: not ours, which may hold DATABASE_URL and other secrets. */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: "/usr/bin:/bin", LC_ALL: "C", LANG: "C" };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

/** Sends each output line of `child` to `onLine` and keeps the last few for error messages. */
export function collectLines(child: ChildProcess, onLine: (line: string) => void): () => string {
  const recent: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        if (!line.trim()) continue;
        recent.push(line);
        if (recent.length > 20) recent.shift();
        onLine(line);
      }
    });
  }
  return () => recent.join("\n");
}
