// Gateway processes for tests: `node --import tsx <entry>` as a separate OS process, ready when its log says so.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/** `group`: the child leads a process group of its own (npm and the service it runs), killed as a whole. */
export type GatewayProcess = { name: string; child: ChildProcess; lines: string[]; group?: boolean };

/** A port the OS just handed out (listen on 0, note it, close it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns `entry` and resolves once a log line matches `ready`; rejects if it exits or is not ready in time. */
export async function startProcess(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  started: Set<GatewayProcess>,
  timeoutMs = 60_000,
  command: string[] = [process.execPath, "--import", "tsx"],
): Promise<GatewayProcess> {
  const group = command[0] === "npm";
  const child = spawn(command[0], [...command.slice(1), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: group,
  });
  const proc = { name, child, lines: [] as string[], group };
  started.add(proc);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready in ${timeoutMs} ms:\n${log(proc)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        proc.lines.push(line);
        if (ready.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}):\n${log(proc)}`));
    });
  });
  return proc;
}

/** `npm run <script> -- <args>` as a user runs it: npm is the process a signal is sent to. */
export function startNpmScript(
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  started: Set<GatewayProcess>,
  timeoutMs = 60_000,
): Promise<GatewayProcess> {
  const npmArgs = args.length ? ["run", script, "--", ...args] : ["run", script];
  return startProcess(name, npmArgs, env, ready, started, timeoutMs, ["npm"]);
}

export function log(proc: GatewayProcess): string {
  return proc.lines.map((line) => `[${proc.name}] ${line}`).join("\n");
}

/** SIGKILLs the processes still running and waits for them to be gone (none may outlive its test file). */
export async function killAll(started: Set<GatewayProcess>): Promise<void> {
  await Promise.all(
    [...started].map(async ({ child, group }) => {
      // npm's child (the service) may outlive npm: kill the whole group.
      if (group && child.pid) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    }),
  );
}
