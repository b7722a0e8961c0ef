/// runc's verbs: the container lifecycle, queries and control.
extension Verbs {
    /// The flags `create` and `run` share.
    static let createFlags: [Flag] = [
        .option("--bundle", short: "-b", value: "path", default: ".", help: "Path to the bundle directory."),
        .option("--pid-file", value: "path", help: "Write the container init's pid to this file."),
        .option("--console-socket", value: "path",
                help: "Unix socket that receives the pty master when process.terminal is true."),
        .flag("--no-pivot", help: "Use MS_MOVE and chroot instead of pivot_root (for ramdisk roots)."),
        .flag("--no-new-keyring", help: "Keep the caller's session keyring instead of a new one."),
        .option("--preserve-fds", value: "n", default: "0", help: "Pass N extra descriptors (3..3+N-1) into the container."),
    ]

    public static let create = Verb(
        path: "create", abstract: "Create a container; its process waits until `start`.",
        flags: createFlags, arguments: [id])

    public static let start = Verb(path: "start", abstract: "Start the process of a created container.", arguments: [id])

    public static let run = Verb(
        path: "run", abstract: "Create and start a container; without --detach, wait and exit with its status.",
        flags: createFlags + [
            .flag("--detach", short: "-d", help: "Return once the container started."),
            .flag("--keep", help: "Do not delete the container after it exits (it stays, stopped, until delete).",
                  runc: "no such flag: runc's run always deletes the container after it exits"),
            .flag("--no-subreaper",
                  help: "Do not reap the container's orphaned processes (they go to the host's reaper); kept where the init is a grandchild (user namespace)."),
        ],
        arguments: [id])

    public static let exec = Verb(
        path: "exec", abstract: "Run another process in a created or running container.",
        discussion: "Give the command after the id, or a process.json with --process. Attached, exits with the process's status.",
        flags: [
            .option("--process", short: "-p", value: "path", help: "A process.json (the OCI process object) to run."),
            .flag("--tty", short: "-t", help: "Allocate a pseudo-terminal."),
            .option("--console-socket", value: "path", help: "Unix socket that receives the pty master."),
            .option("--cwd", value: "path", help: "Working directory in the container."),
            .option("--env", short: "-e", value: "KEY=VALUE", repeatable: true,
                    help: "Set an environment variable (KEY=VALUE); repeatable."),
            .option("--user", short: "-u", value: "uid[:gid]", help: "uid[:gid] to run as."),
            .option("--additional-gids", short: "-g", value: "gid", repeatable: true, help: "An additional gid; repeatable."),
            .option("--cap", short: "-c", value: "CAP_...", repeatable: true, help: "Add a capability (CAP_...); repeatable."),
            .flag("--no-new-privs", help: "Set no_new_privs for the process."),
            .flag("--detach", short: "-d", help: "Return once the process started."),
            .option("--pid-file", value: "path", help: "Write the process's pid to this file."),
            .option("--preserve-fds", value: "n", default: "0", help: "Pass N extra descriptors (3..3+N-1) to the process."),
            .option("--cgroup", value: "[controller[,controller]:]path", repeatable: true,
                    help: "Run the process in an existing sub-cgroup: [controller[,controller]:]path, relative to the container's cgroup; repeatable."),
            .flag("--ignore-paused", help: "Allow exec in a paused container (the process starts frozen)."),
            .option("--apparmor", value: "profile", help: "AppArmor profile for the process.",
                    runc: "applies the profile; safehouse refuses the flag, as it applies no AppArmor profiles"),
            .option("--process-label", value: "label", help: "SELinux label for the process.",
                    runc: "applies the label; safehouse refuses the flag, as it applies no SELinux labels"),
        ],
        arguments: [id],
        trailing: Verb.Trailing(name: "command", help: "The command and its arguments.", start: .afterArguments))

    /// CRIU's options that `checkpoint` and `restore` share, by runc's names.
    static let criuFlags: [Flag] = [
        .option("--image-path", value: "path", help: "Directory of the checkpoint's images (default: ./checkpoint)."),
        .option("--work-path", value: "path", help: "Directory for CRIU's logs and work files (default: the image path)."),
        .flag("--tcp-established", help: "Allow open TCP connections (native only)."),
        .flag("--ext-unix-sk", help: "Allow external unix sockets (native only)."),
        .flag("--shell-job", help: "Allow a shell job: a process whose session and terminal are outside the container."),
        .flag("--file-locks", help: "Save and restore file locks."),
        .option("--manage-cgroups-mode", value: "mode", help: "How CRIU handles cgroups: soft (default), full or strict (native only)."),
        .option("--empty-ns", value: "namespace", repeatable: true,
                help: "Create this namespace (network) empty instead of restoring it (native only); repeatable."),
        .flag("--auto-dedup", help: "Deduplicate memory images as they are written or read (native only)."),
        .flag("--lazy-pages", help: "Restore memory lazily through userfaultfd (native only)."),
    ]

    public static let checkpoint = Verb(
        path: "checkpoint", abstract: "Save a running container (processes, memory, open files) to a directory; it is then deleted unless --leave-running.",
        discussion: "Native: with CRIU (`criu check` must pass on the host). gvisor: with runsc checkpoint, which takes none of CRIU's options. See docs/checkpoint.md.",
        flags: criuFlags + [
            .option("--parent-path", value: "path", help: "Images of a previous --pre-dump, relative to the image path (native only)."),
            .flag("--leave-running", help: "Leave the container running after the checkpoint."),
            .option("--page-server", value: "address:port", help: "Send memory pages to a CRIU page server (native only, with --lazy-pages)."),
            .option("--status-fd", value: "fd", help: "CRIU writes a NUL byte to this descriptor once lazy pages are ready (native only)."),
            .flag("--pre-dump", help: "Dump memory only and leave the container running (native only)."),
        ],
        arguments: [id])

    public static let restore = Verb(
        path: "restore", abstract: "Make a running container from a checkpoint and a bundle; without --detach, wait and exit with its status.",
        discussion: "The id may be new: one checkpoint restores into several containers. See docs/checkpoint.md.",
        flags: criuFlags + [
            .option("--bundle", short: "-b", value: "path", default: ".", help: "Path to the bundle directory."),
            .flag("--detach", short: "-d", help: "Return once the container runs."),
            .option("--pid-file", value: "path", help: "Write the container init's pid to this file."),
            .option("--console-socket", value: "path",
                    help: "Unix socket that receives the pty master (gvisor only: native restore refuses a terminal)."),
            .flag("--no-subreaper", help: "Do not reap the container's orphaned processes (detached restore only)."),
            .flag("--no-pivot", help: "Refused: CRIU and runsc restore the root they saved.",
                  runc: "passes it to CRIU; safehouse refuses it"),
            .option("--lsm-profile", value: "TYPE:NAME", help: "Refused: safehouse applies no LSM profiles.",
                    runc: "sets the LSM profile of the restored process; safehouse refuses it"),
            .option("--lsm-mount-context", value: "context", help: "Refused: safehouse applies no SELinux mount contexts.",
                    runc: "sets the mount context; safehouse refuses it"),
        ],
        arguments: [id])

    public static let state = Verb(path: "state", abstract: "Print a container's state as JSON.", arguments: [id])

    public static let kill = Verb(
        path: "kill", abstract: "Send a signal (default SIGTERM) to a container's init, or with --all to all its processes.",
        flags: [.flag("--all", short: "-a", help: "Signal every process of the container.")],
        arguments: [id, .init(name: "signal", help: "Signal by name (TERM, SIGKILL) or number (9).", defaultValue: "SIGTERM")])

    public static let delete = Verb(
        path: "delete", abstract: "Delete a stopped container (with --force, any container).",
        flags: [.flag("--force", short: "-f", help: "Kill the container first if it is running.")],
        arguments: [id])

    public static let ps = Verb(
        path: "ps", abstract: "List the processes of a container (table from the host's ps, or json pids).",
        flags: [.option("--format", short: "-f", value: "table|json", default: "table", help: "Output format: table or json.")],
        arguments: [id],
        trailing: Verb.Trailing(name: "ps-options", help: "Arguments for ps (default -ef).", start: .afterArguments))

    public static let pause = Verb(path: "pause", abstract: "Freeze every process of a running container.", arguments: [id])

    public static let resume = Verb(path: "resume", abstract: "Thaw a paused container.", arguments: [id])

    public static let events = Verb(
        path: "events", abstract: "Print resource statistics (and OOM events) as JSON lines, in runc's shape.",
        flags: [
            .flag("--stats", help: "Print one stats event and exit."),
            .option("--interval", value: "duration", default: "5s",
                    help: "Time between stats events, a Go duration (\"100ms\", \"5s\", \"1m\"); a bare number is seconds."),
        ],
        arguments: [id])

    /// update's values are taken even when they start with a dash (`--cpu-quota -1`,
    /// `--memory-swap -1`): runc (urfave/cli) reads the next word as the value.
    /// Memory values take go-units sizes ("50M", "1.5g") as runc's do.
    public static let update = Verb(
        path: "update", abstract: "Change the resource limits of a running container.",
        discussion: "--resources FILE (or - for stdin) takes a linux.resources object; the flags set single values on top of it.",
        flags: [
            .option("--resources", short: "-r", value: "path", help: "A linux.resources JSON file, or - for stdin."),
            .option("--memory", value: "size", takesDashedValue: true,
                    help: "Memory limit in bytes, or with a unit (50M, 1g); -1 for unlimited."),
            .option("--memory-reservation", value: "size", takesDashedValue: true, help: "Memory soft limit (bytes or 50M, 1g)."),
            .option("--memory-swap", value: "size", takesDashedValue: true,
                    help: "Memory plus swap limit (bytes or 50M, 1g); -1 for unlimited."),
            .option("--kernel-memory", value: "size", takesDashedValue: true,
                    help: "Kernel memory limit (ignored where the kernel dropped it)."),
            .option("--cpu-share", aliases: ["--cpu-shares"], value: "n", takesDashedValue: true,
                    help: "CPU shares (relative weight).", runc: "spelled --cpu-share; --cpu-shares is accepted too"),
            .option("--cpu-quota", value: "n", takesDashedValue: true, help: "CPU CFS quota in microseconds (-1 for unlimited)."),
            .option("--cpu-period", value: "n", takesDashedValue: true, help: "CPU CFS period in microseconds."),
            .option("--cpu-rt-runtime", value: "n", takesDashedValue: true, help: "Realtime runtime in microseconds."),
            .option("--cpu-rt-period", value: "n", takesDashedValue: true, help: "Realtime period in microseconds."),
            .option("--cpuset-cpus", value: "list", takesDashedValue: true, help: "CPUs to use (0-3, 0,1)."),
            .option("--cpuset-mems", value: "list", takesDashedValue: true, help: "Memory nodes to use."),
            .option("--pids-limit", value: "n", takesDashedValue: true, help: "Maximum number of processes (-1 or 0: no limit)."),
            .option("--blkio-weight", value: "n", takesDashedValue: true, help: "Block IO weight (10-1000)."),
            .option("--l3-cache-schema", value: "schema", help: "Intel RDT/CAT L3 cache schema.",
                    runc: "sets the schema; safehouse refuses the flag, as it does not manage resctrl"),
            .option("--mem-bw-schema", value: "schema", help: "Intel RDT/MBA memory bandwidth schema.",
                    runc: "sets the schema; safehouse refuses the flag, as it does not manage resctrl"),
        ],
        arguments: [id])

    public static let list = Verb(
        path: "list", aliases: ["ps-all"], abstract: "List containers under the root.",
        flags: [
            .option("--format", short: "-f", value: "table|json", default: "table", help: "Output format: table or json."),
            .flag("--quiet", short: "-q", help: "Print only the ids."),
        ])

    /// spec takes the global flags as every verb does (tools pass --root and --log to
    /// every verb, and runc's spec takes them) and needs none of them; its own
    /// --rootless switch shadows runc's global --rootless VALUE, which GlobalArguments
    /// drops for spec.
    public static let spec = Verb(
        path: "spec", abstract: "Write a default config.json into the bundle directory.",
        flags: [
            .option("--bundle", short: "-b", value: "path", default: ".", help: "Bundle directory to write config.json into."),
            .flag("--rootless", help: "Generate a spec for a rootless container (user namespace, no cgroup mount)."),
        ])

    public static let features = Verb(
        path: "features", abstract: "Print the features this runtime implements, as the runtime-spec features document.")
}
