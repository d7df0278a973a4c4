/**
 * The command line's shape: every command, argument and flag, apart from
 * behaviour (liboci-cli style). Each action only hands a typed call to
 * `dispatch`; the command files do the work.
 */
import { Command } from 'commander';
import type { Context } from './context.js';
import type { AttachFlags } from './commands/attach.js';
import type { UpdateFlags } from './commands/container-ops.js';
import type { ExecFlags } from './commands/exec.js';
import type { RunFlags } from './commands/run.js';
import type { CreateFlags } from './create-body.js';
import { cliVersion } from './version.js';

// Each command's module loads when that command runs: a `berth run` does not
// pay for loading `image import`'s archive and progress code, nor the others.
const commands = {
  attach: () => import('./commands/attach.js'),
  containerFs: () => import('./commands/container-fs.js'),
  containerOps: () => import('./commands/container-ops.js'),
  events: () => import('./commands/events.js'),
  create: () => import('./commands/create.js'),
  exec: () => import('./commands/exec.js'),
  daemon: () => import('./commands/daemon.js'),
  image: () => import('./commands/image.js'),
  inspect: () => import('./commands/inspect.js'),
  lifecycle: () => import('./commands/lifecycle.js'),
  logs: () => import('./commands/logs.js'),
  network: () => import('./commands/network.js'),
  ps: () => import('./commands/ps.js'),
  registry: () => import('./commands/registry.js'),
  run: () => import('./commands/run.js'),
  system: () => import('./commands/system.js'),
  volumeArchive: () => import('./commands/volume-archive.js'),
  volume: () => import('./commands/volume.js'),
};

export type Handler = (ctx: Context) => Promise<number>;

export interface GlobalFlags {
  root?: string;
  host?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The flags `run` and `create` share (docker's names). */
function containerFlags(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'assign a name to the container')
    .option('--rm', 'remove the container and its anonymous volumes when it exits')
    .option('-v, --volume <spec>', 'bind mount a volume: NAME:/path[:ro], /host:/path[:ro] or /path', collect, [])
    .option('--mount <spec>', 'attach a mount: type=volume|bind|tmpfs,source=...,target=...[,readonly]', collect, [])
    .option('--tmpfs <spec>', 'mount a tmpfs: /path[:options]', collect, [])
    .option('--volumes-from <container>', 'mount the volumes of another container', collect, [])
    .option('--read-only', 'mount the root filesystem read-only')
    .option('-e, --env <var>', 'set an environment variable: NAME=VALUE (or NAME to copy it)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'user[:group] to run as')
    .option('--hostname <name>', 'container host name')
    .option('-m, --memory <bytes>', 'memory limit (b, k, m, g units)')
    .option('--pids-limit <n>', 'process count limit (0 or -1: unlimited)')
    .option('--cpus <n>', 'number of CPUs')
    .option('--network <mode>', 'network: default (bridge), a network name, none, host or container:<id>')
    .option('-p, --publish <spec>', "publish a container's port: [ip:][hostPort:]containerPort[/tcp|udp]", collect, [])
    .option('-P, --publish-all', 'publish every exposed port on a free host port')
    .option('--expose <port>', 'expose a port without publishing it', collect, [])
    .option('--network-alias <name>', 'another name of the container on its network', collect, [])
    .option('--ip <address>', 'IPv4 address on the network (user subnets only)')
    .option('--mac-address <mac>', 'MAC address on the network')
    .option('--dns <ip>', 'DNS server', collect, [])
    .option('--dns-search <domain>', 'DNS search domain', collect, [])
    .option('--dns-option <option>', 'resolv.conf option', collect, [])
    .option('--add-host <host:ip>', 'an /etc/hosts entry (ip may be host-gateway)', collect, [])
    .option('--link <container[:alias]>', 'reach another container by name (/etc/hosts)', collect, [])
    .option('--entrypoint <cmd>', 'override the image entrypoint')
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', "keep the container's stdin open (run: and send berth's own stdin to it)")
    .option('-t, --tty', 'run the command on a terminal (with -i, an interactive shell: berth -it IMAGE sh)')
    .option('--restart <policy>', 'restart policy: no, always, unless-stopped or on-failure[:max-retries]')
    .option('--log-driver <driver>', 'logging driver: json-file (default) or none (no log kept)')
    .option('--log-opt <key=value>', 'log driver option: max-size=10m, max-file=3', collect, [])
    .option('--pull <policy>', 'pull the image: missing (default: when not here), always, never')
    .option('--platform <platform>', 'os/arch[/variant] of the image to pull and run (default: this host)')
    .argument('<image>', 'image reference (pulled when missing, as docker run does)')
    .argument('[command...]', 'command and arguments')
    .passThroughOptions();
}

export function buildProgram(dispatch: (handler: Handler) => void): Command {
  const program = new Command('berth')
    .description('berth: run a process in an isolated rootfs with volumes and bind mounts (Docker-compatible)')
    .version(cliVersion(), '--version', 'print the CLI version')
    .option('--root <dir>', 'state directory (env BERTH_ROOT, default /var/lib/berth)')
    .option('-H, --host <url>', 'daemon socket: unix://PATH (env BERTH_HOST, default unix:///run/berth/berth.sock)')
    .enablePositionalOptions()
    .showHelpAfterError("(run 'berth --help' or 'berth COMMAND --help' for usage)")
    .exitOverride();

  program.command('daemon').description('run the supervisor in the foreground')
    .option('--workers <n>', 'worker pool size')
    .option('--sandboxes <n>', 'containers each worker keeps built ahead for its recent launches (default 2; 0: none)')
    .option('--storage-driver <driver>', 'overlay (default) or vfs: full copies, where overlay cannot be mounted')
    .option('--insecure-registry <registry>', 'a registry (host[:port] or CIDR) to reach over unverified HTTPS, then HTTP, as 127.0.0.0/8 is', collect, [])
    .action((o: { workers?: string; sandboxes?: string; storageDriver?: string; insecureRegistry: string[] }) => dispatch(async (ctx) => (await commands.daemon()).daemon(ctx, o)));

  program.command('pull').description('pull an image from a registry').argument('<image>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <platform>', 'os/arch[/variant] to pick from a multi-platform image (default: this host)')
    .option('-q, --quiet', 'print only the image reference')
    .action((image: string, o: { platform?: string; quiet?: boolean }) => dispatch(async (ctx) => (await commands.registry()).pull(ctx, image, o)));
  program.command('push').description('push an image to a registry').argument('<image>', 'NAME[:TAG]')
    .action((image: string) => dispatch(async (ctx) => (await commands.registry()).push(ctx, image)));
  program.command('login').description('log in to a registry (credentials are kept in ~/.docker/config.json, as the docker CLI keeps them)')
    .argument('[server]', 'registry host[:port] (default: Docker Hub)')
    .option('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .action((server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }) =>
      dispatch(async (ctx) => (await commands.registry()).login(ctx, server, o)));
  program.command('logout').description('forget the credentials of a registry').argument('[server]', 'registry host[:port] (default: Docker Hub)')
    .action((server: string | undefined) => dispatch(async (ctx) => (await commands.registry()).logout(ctx, server)));

  containerFlags(program.command('run').description('create and start a container').option('-d, --detach', 'run in the background and print the container id')
    .option('--detach-keys <keys>', 'keys that leave an -it session with the container running (default ctrl-p,ctrl-q)'))
    .action((image: string, command: string[], o: RunFlags) => dispatch(async (ctx) => (await commands.run()).run(ctx, image, command, o)));
  containerFlags(program.command('create').description('create a container without starting it'))
    .action((image: string, command: string[], o: CreateFlags) => dispatch(async (ctx) => (await commands.create()).create(ctx, image, command, o)));

  program.command('exec').description('run a command in a running container').argument('<container>').argument('<command...>')
    .option('-i, --interactive', 'keep stdin open and send ours to the command')
    .option('-t, --tty', 'run the command on a terminal')
    .option('-d, --detach', 'run it in the background')
    .option('-u, --user <user>', 'user[:group] to run as')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-e, --env <var>', 'set an environment variable: NAME=VALUE (or NAME to copy it)', collect, [])
    .option('--detach-keys <keys>', 'keys that leave an -it session with the command running (default ctrl-p,ctrl-q)')
    .passThroughOptions()
    .action((container: string, command: string[], o: ExecFlags) =>
      dispatch(async (ctx) => (await commands.exec()).exec(ctx, container, command, o)));
  program.command('attach').description("attach to a running container's output (and input, with OpenStdin)").argument('<container>')
    .option('--detach-keys <keys>', 'keys that leave the session with the container running (default ctrl-p,ctrl-q)')
    .option('--no-stdin', 'do not attach stdin')
    .action((container: string, o: AttachFlags) => dispatch(async (ctx) => (await commands.attach()).attach(ctx, container, o)));
  program.command('start').description('start created or stopped containers').argument('<containers...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.lifecycle()).start(ctx, names)));
  program.command('ps').description('list containers')
    .option('-a, --all', 'show all containers (default: only running)')
    .option('-q, --quiet', 'only print container ids')
    .option('--format <format>', 'json or table')
    .action((o: { all?: boolean; quiet?: boolean; format?: string }) => dispatch(async (ctx) => (await commands.ps()).ps(ctx, o)));
  program.command('logs').description('print the output of a container').argument('<container>')
    .option('-f, --follow', 'follow the output')
    .option('-n, --tail <n>', 'lines from the end (default all)')
    .option('-t, --timestamps', 'show timestamps')
    .action((name: string, o: { follow?: boolean; tail?: string; timestamps?: boolean }) => dispatch(async (ctx) => (await commands.logs()).logs(ctx, name, o)));
  program.command('restart').description('restart containers (stop, then start)').argument('<containers...>')
    .option('-t, --timeout <seconds>', 'seconds to wait before SIGKILL')
    .action((names: string[], o: { timeout?: string }) => dispatch(async (ctx) => (await commands.lifecycle()).restart(ctx, names, o)));
  program.command('top').description("show a container's processes").argument('<container>')
    .action((container: string) => dispatch(async (ctx) => (await commands.lifecycle()).top(ctx, container)));
  program.command('rename').description('rename a container').argument('<container>').argument('<name>')
    .action((container: string, name: string) => dispatch(async (ctx) => (await commands.lifecycle()).rename(ctx, container, name)));
  const container = program.command('container').description('manage containers');
  container.command('prune').description('remove all stopped containers (their volumes stay)')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--filter <key=value>', 'filter: label, label!, until', collect, [])
    .action((o: { force?: boolean; filter: string[] }) => dispatch(async (ctx) => (await commands.lifecycle()).containerPrune(ctx, o)));
  program.command('stop').description('stop containers (SIGTERM, then SIGKILL after the timeout)').argument('<containers...>')
    .option('-t, --timeout <seconds>', 'seconds to wait before SIGKILL')
    .action((names: string[], o: { timeout?: string }) => dispatch(async (ctx) => (await commands.lifecycle()).stop(ctx, names, o)));
  program.command('kill').description('send a signal to containers').argument('<containers...>')
    .option('-s, --signal <signal>', 'signal to send (default KILL)')
    .action((names: string[], o: { signal?: string }) => dispatch(async (ctx) => (await commands.lifecycle()).kill(ctx, names, o)));
  program.command('rm').description('remove containers').argument('<containers...>')
    .option('-f, --force', 'kill and remove running containers')
    .option('-v, --volumes', 'remove anonymous volumes of the containers')
    .action((names: string[], o: { force?: boolean; volumes?: boolean }) => dispatch(async (ctx) => (await commands.lifecycle()).rm(ctx, names, o)));
  program.command('wait').description('wait for containers to stop and print their exit codes').argument('<containers...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.lifecycle()).wait(ctx, names)));
  program.command('cp').description('copy files between a container and the host: CONTAINER:SRC DEST, SRC CONTAINER:DEST (- for a tar on stdin/stdout)')
    .argument('<src>').argument('<dest>')
    .option('-a, --archive', 'keep uid/gid')
    .option('-L, --follow-link', 'follow a symlink in SRC')
    .action((src: string, dest: string, o: { archive?: boolean; followLink?: boolean }) => dispatch(async (ctx) => (await commands.containerFs()).cp(ctx, src, dest, o)));
  program.command('diff').description("list the changes to a container's filesystem (A added, C changed, D deleted)").argument('<container>')
    .action((container: string) => dispatch(async (ctx) => (await commands.containerFs()).diff(ctx, container)));
  program.command('export').description("write a container's filesystem as a tar archive").argument('<container>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((container: string, o: { output?: string }) => dispatch(async (ctx) => (await commands.containerFs()).exportContainer(ctx, container, o)));
  program.command('commit').description("create an image from a container's changes").argument('<container>').argument('[repository[:tag]]')
    .option('-a, --author <author>', 'author (e.g. "Jane <jane@example.com>")')
    .option('-m, --message <message>', 'commit message')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR)', collect, [])
    .option('--no-pause', 'do not pause the container during the commit')
    .action((container: string, ref: string | undefined, o: { author?: string; message?: string; change: string[]; pause?: boolean }) =>
      dispatch(async (ctx) => (await commands.containerFs()).commit(ctx, container, ref, o)));
  program.command('stats').description("show containers' resource use (CPU, memory, network, block I/O, pids)").argument('[containers...]')
    .option('-a, --all', 'show all containers (default: only running)')
    .option('--no-stream', 'print one table and exit')
    .action((names: string[], o: { all?: boolean; stream?: boolean }) => dispatch(async (ctx) => (await commands.containerOps()).stats(ctx, names, o)));
  program.command('update').description("change running or stopped containers' limits and restart policy").argument('<containers...>')
    .option('-m, --memory <bytes>', 'memory limit (b, k, m, g units)')
    .option('--memory-swap <bytes>', 'memory plus swap limit (-1: unlimited swap)')
    .option('--memory-reservation <bytes>', 'soft memory limit')
    .option('-c, --cpu-shares <n>', 'relative CPU weight')
    .option('--cpu-period <us>', 'CFS period in microseconds')
    .option('--cpu-quota <us>', 'CFS quota in microseconds')
    .option('--cpus <n>', 'number of CPUs')
    .option('--cpuset-cpus <list>', 'CPUs it may run on (0-2,4)')
    .option('--cpuset-mems <list>', 'memory nodes it may use')
    .option('--pids-limit <n>', 'process count limit (0 or -1: unlimited)')
    .option('--restart <policy>', 'restart policy: no, always, unless-stopped or on-failure[:max-retries]')
    .action((names: string[], o: UpdateFlags) => dispatch(async (ctx) => (await commands.containerOps()).update(ctx, names, o)));
  program.command('pause').description('freeze every process of containers').argument('<containers...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.containerOps()).pause(ctx, names)));
  program.command('unpause').description('let the processes of paused containers run again').argument('<containers...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.containerOps()).unpause(ctx, names)));
  program.command('events').description('print daemon events (container, volume, image) as they happen')
    .option('--since <time>', 'replay events since this time (unix seconds or RFC 3339)')
    .option('--until <time>', 'stop at this time')
    .option('-f, --filter <key=value>', 'filter: type, event, container, image, volume, label', collect, [])
    .option('--format <format>', 'json: one Engine API event per line')
    .action((o: { since?: string; until?: string; filter: string[]; format?: string }) => dispatch(async (ctx) => (await commands.events()).events(ctx, o)));
  program.command('inspect').description('show containers, volumes or images as Docker API JSON').argument('<names...>')
    .option('--type <type>', 'container, volume or image')
    .action((names: string[], o: { type?: string }) => dispatch(async (ctx) => (await commands.inspect()).inspect(ctx, names, o)));

  const volume = program.command('volume').description('manage volumes');
  volume.command('create').description('create a volume and print its name').argument('[name]')
    .option('-d, --driver <driver>', 'volume driver', 'local')
    .option('--label <key=value>', 'set a label', collect, [])
    .option('-o, --opt <key=value>', 'set a driver option', collect, [])
    .action((name: string | undefined, o: { driver?: string; label: string[]; opt: string[] }) => dispatch(async (ctx) => (await commands.volume()).volumeCreate(ctx, name, o)));
  volume.command('ls').alias('list').description('list volumes')
    .option('-q, --quiet', 'only print volume names')
    .option('-f, --filter <key=value>', 'filter: dangling, name, label, driver', collect, [])
    .option('--format <format>', 'json or table')
    .action((o: { quiet?: boolean; filter: string[]; format?: string }) => dispatch(async (ctx) => (await commands.volume()).volumeLs(ctx, o)));
  volume.command('inspect').description('show volumes as Docker API JSON').argument('<names...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.inspect()).inspectKind('volume')(ctx, names)));
  volume.command('rm').alias('remove').description('remove volumes').argument('<names...>')
    .option('-f, --force', 'do not fail when a volume does not exist')
    .action((names: string[], o: { force?: boolean }) => dispatch(async (ctx) => (await commands.volume()).volumeRm(ctx, names, o)));
  volume.command('prune').description('remove unused anonymous volumes (all unused with -a)')
    .option('-a, --all', 'remove named volumes too')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--filter <key=value>', 'filter: label', collect, [])
    .action((o: { all?: boolean; force?: boolean; filter: string[] }) => dispatch(async (ctx) => (await commands.volume()).volumePrune(ctx, o)));
  volume.command('export').description("write a volume's contents as a tar archive").argument('<name>')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action((name: string, o: { output?: string }) => dispatch(async (ctx) => (await commands.volumeArchive()).volumeExport(ctx, name, o)));
  volume.command('import').description('fill a volume from a tar archive (FILE or - for stdin)').argument('<name>').argument('<file>')
    .action((name: string, file: string) => dispatch(async (ctx) => (await commands.volumeArchive()).volumeImport(ctx, name, file)));
  volume.command('clone').description('copy a volume into a new volume').argument('<source>').argument('<target>')
    .action((source: string, target: string) => dispatch(async (ctx) => (await commands.volumeArchive()).volumeClone(ctx, source, target)));

  program.command('port').description("list a container's published ports").argument('<container>').argument('[port]')
    .action((c: string, p: string | undefined) => dispatch(async (ctx) => (await commands.network()).port(ctx, c, p)));
  const network = program.command('network').description('manage networks');
  network.command('create').description('create a network and print its id').argument('<name>')
    .option('-d, --driver <driver>', 'network driver', 'bridge')
    .option('--subnet <cidr>', 'subnet (CIDR)', collect, [])
    .option('--gateway <ip>', 'gateway of the subnet', collect, [])
    .option('--ip-range <cidr>', 'allocate container addresses from this range', collect, [])
    .option('--internal', 'no traffic to or from outside the network')
    .option('--attachable', 'let containers connect by hand')
    .option('--label <key=value>', 'set a label', collect, [])
    .option('-o, --opt <key=value>', 'driver option', collect, [])
    .action((name: string, o: import('./commands/network.js').NetworkCreateFlags) => dispatch(async (ctx) => (await commands.network()).networkCreate(ctx, name, o)));
  network.command('ls').alias('list').description('list networks')
    .option('-q, --quiet', 'only print network ids')
    .option('-f, --filter <key=value>', 'filter: driver, id, label, name, scope, type, dangling', collect, [])
    .option('--no-trunc', 'do not truncate ids')
    .action((o: { quiet?: boolean; filter: string[]; trunc?: boolean }) => dispatch(async (ctx) => (await commands.network()).networkLs(ctx, { ...o, noTrunc: o.trunc === false })));
  network.command('inspect').description('show networks as Docker API JSON').argument('<names...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.inspect()).inspectKind('network')(ctx, names)));
  network.command('rm').alias('remove').description('remove networks').argument('<names...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.network()).networkRm(ctx, names)));
  network.command('connect').description('connect a container to a network').argument('<network>').argument('<container>')
    .option('--alias <name>', 'a name on this network', collect, [])
    .option('--ip <address>', 'IPv4 address')
    .option('--link <container:alias>', 'link to another container', collect, [])
    .action((net: string, c: string, o: { alias: string[]; ip?: string; link: string[] }) => dispatch(async (ctx) => (await commands.network()).networkConnect(ctx, net, c, o)));
  network.command('disconnect').description('disconnect a container from a network').argument('<network>').argument('<container>')
    .option('-f, --force', 'even when the container is gone')
    .action((net: string, c: string, o: { force?: boolean }) => dispatch(async (ctx) => (await commands.network()).networkDisconnect(ctx, net, c, o)));
  network.command('prune').description('remove networks no container uses')
    .option('-f, --force', 'do not ask')
    .option('--filter <key=value>', 'until=, label=, label!=', collect, [])
    .action((o: { force?: boolean; filter: string[] }) => dispatch(async (ctx) => (await commands.network()).networkPrune(ctx, o)));

  const image = program.command('image').description('manage images');
  image.command('import').description('load an image archive (docker save, OCI layout or rootfs tar; FILE or -)').argument('<file>').argument('[ref]', 'tag the image REF instead of its own tag')
    .action((file: string, ref: string | undefined) => dispatch(async (ctx) => (await commands.image()).imageImport(ctx, file, ref)));
  image.command('load').description('load an image archive (docker-compatible; stdin unless -i)')
    .option('-i, --input <file>', 'read from FILE instead of stdin')
    .action((o: { input?: string }) => dispatch(async (ctx) => (await commands.image()).imageImport(ctx, o.input ?? '-', undefined)));
  const lsImages = (o: { quiet?: boolean; format?: string }): void => dispatch(async (ctx) => (await commands.image()).imageLs(ctx, o));
  image.command('ls').alias('list').description('list images').option('-q, --quiet', 'only print image ids').option('--format <format>', 'json or table').action(lsImages);
  program.command('images').description('list images').option('-q, --quiet', 'only print image ids').option('--format <format>', 'json or table').action(lsImages);
  image.command('inspect').description('show images as Docker API JSON').argument('<names...>')
    .action((names: string[]) => dispatch(async (ctx) => (await commands.inspect()).inspectKind('image')(ctx, names)));
  const rmImages = (names: string[], o: { force?: boolean }): void => dispatch(async (ctx) => (await commands.image()).imageRm(ctx, names, o));
  image.command('rm').alias('remove').description('remove images').argument('<names...>').option('-f, --force', 'remove even if tagged more than once').action(rmImages);
  program.command('rmi').description('remove images').argument('<names...>').option('-f, --force', 'remove even if tagged more than once').action(rmImages);
  image.command('tag').description('add a tag to an image').argument('<source>').argument('<target>')
    .action((source: string, target: string) => dispatch(async (ctx) => (await commands.image()).imageTag(ctx, source, target)));

  const system = program.command('system').description('system information');
  system.command('df').description('show disk usage').option('-v, --verbose', 'show details')
    .action((o: { verbose?: boolean }) => dispatch(async (ctx) => (await commands.system()).systemDf(ctx, o)));
  program.command('version').description('show client and daemon versions').action(() => dispatch(async (ctx) => (await commands.system()).version(ctx)));
  program.command('info').description('show daemon information').action(() => dispatch(async (ctx) => (await commands.system()).info(ctx)));
  return program;
}
