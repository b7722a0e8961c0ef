/// `safehouse agent spec|run|explain|stop-all|allow|deny|rules`: the agent sandbox (Sources/Agent).
extension Verbs {
    /// The profiles shipped in the binary (Agent's `Profiles.names`; CLITests checks
    /// that the two agree, as this target cannot link Agent).
    static let profileNames = "default, offline-strict, web"

    /// The flags `agent spec` and `agent run` share.
    static let sandboxFlags: [Flag] = [
        .option("--policy", value: "name|file", default: "default",
                help: "A profile name (\(profileNames)), a policy in the policy directory, or a policy file (YAML or JSON), laid over the default profile."),
        .option("--input", value: "path", help: "Host directory mounted read-only at /input."),
        .option("--output", value: "path", help: "Host directory mounted read-write at /output (made if missing)."),
        .option("--timeout", value: "duration", help: "Wall-clock limit (30s, 5m, 1h30m; at most 576h), replacing the policy's."),
        .option("--env", value: "KEY=VALUE", repeatable: true,
                help: "KEY=VALUE added to the command's environment, replacing the policy's KEY (repeatable)."),
        .option("--workdir", value: "path", help: "The command's working directory inside the sandbox, replacing the policy's."),
        .option("--allow", value: "destination", repeatable: true,
                help: "A destination added to the policy's network.allow: host, *.domain, host:port, address or CIDR (repeatable)."),
    ]

    static let sandboxCommand = Verb.Trailing(name: "command", help: "The command to run, after --.", start: .afterTerminator)

    public static let agentSpec = Verb(
        path: "agent spec", abstract: "Print the OCI config.json for a sandbox (any OCI runtime can run it).",
        flags: sandboxFlags + [
            .option("--rootfs", value: "path", required: true, help: "The image's root filesystem (the read-only lower layer)."),
            .option("--image", value: "ref",
                    help: "Apply this image's config (env, working directory, user, entrypoint) as agent run --image does; --rootfs is where the image's root is mounted (a named User is looked up in its /etc/passwd). The image is fetched into the store if it is not there."),
            .flag("--hooks",
                  help: "Add OCI hooks (createRuntime, poststart, poststop) that write the sandbox's audit records, so runc or crun running the spec keeps its audit trail."),
        ],
        trailing: sandboxCommand)

    public static let agentRun = Verb(
        path: "agent run", abstract: "Run a command in a sandbox and remove the sandbox; exit with the command's code.",
        discussion: """
        The command's stdout and stderr are streamed; a summary (duration, exit, limits \
        hit, the root filesystem's change set) goes to stderr. Exit codes: the command's, \
        124 when the timeout killed it, 137 when it was killed (OOM, emergency stop).
        """,
        flags: sandboxFlags + [
            .option("--rootfs", value: "path", help: "The image's root filesystem (the read-only lower layer); or --image."),
            .option("--image", value: "ref",
                    help: "An OCI image instead of --rootfs: oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, containers-storage:NAME, docker://HOST/NAME:TAG, or a NAME agent commit made. Fetched once into the image store; its config is the default under the policy."),
            .flag("--keep", help: "Keep the root's change set after the sandbox ends, for agent commit ID NAME (needs --image)."),
            .option("--id", value: "id", help: "The sandbox's container id (default: agent-<random>)."),
            .option("--summary", value: "text|json|none", default: "text", help: "Summary on stderr: text, json or none."),
            .option("--summary-file", value: "path", help: "Write the summary to this file (made or truncated) instead of stderr."),
        ],
        trailing: sandboxCommand)

    public static let agentExplain = Verb(
        path: "agent explain", abstract: "Print what a policy changes in a config.json an engine wrote, one line per change.",
        discussion: """
        An engine's container whose config.json carries io.safehouse.policy is created \
        with the policy laid over its spec: capabilities cut, no_new_privileges, masked \
        and read-only paths, the stricter limits, a user namespace, /scratch, and the \
        policy's seccomp profile as a second filter. Each line reads FIELD: WAS -> NOW. \
        A config.json that agent spec generated is the policy already: it is created \
        as it is, and only a note on stderr says so (unless --policy names one).
        """,
        flags: [
            .option("--policy", value: "name",
                    help: "A profile name (\(profileNames)) or a policy in the policy directory, instead of the one config.json's io.safehouse.policy names."),
        ],
        arguments: [Verb.Argument(name: "config", help: "The config.json (an OCI runtime spec).")])

    public static let agentCheckpoint = Verb(
        path: "agent checkpoint", abstract: "Save a running sandbox to a snapshot directory (memory, written files, spec, time left); the sandbox is then gone.",
        discussion: """
        The snapshot holds the sandbox's memory (runsc checkpoint on gvisor; natively \
        CRIU, which must pass criu check), its ephemeral root's upper layer, its spec and \
        root (directory or image layers) and the time it had left. agent restore makes \
        new sandboxes from it, as many as asked, after this process is long gone. A \
        sandbox with an egress allowlist is refused on gvisor. See docs/checkpoint.md.
        """,
        flags: [.option("--to", value: "dir", required: true, help: "The snapshot directory (made 0700; an existing one must be empty).")],
        arguments: [Verb.Argument(name: "id", help: "The sandbox's container id.")])

    public static let agentRestore = Verb(
        path: "agent restore", abstract: "Make a new sandbox from a snapshot; without --detach, wait and exit with its status.",
        discussion: """
        The new sandbox has its own id, warden (deadline, limits), audit log and copy of \
        the snapshot's upper layer; its memory continues where the snapshot was taken. \
        Restore one snapshot several times to fork it. The sandbox's stdio is this \
        command's: with --detach, point it at a file, not a pipe you wait on.
        """,
        flags: [
            .option("--id", value: "id", help: "The new sandbox's container id (default: agent-<random>)."),
            .option("--timeout", value: "duration", help: "Wall-clock limit from now (30s, 5m, 1h30m), replacing the time the snapshot had left."),
            .flag("--detach", short: "d", help: "Return once the sandbox runs; print its id on stderr."),
            .option("--pid-file", value: "path", help: "Write the sandbox's pid (on gvisor: runsc's sandbox process) to this file."),
            .option("--bundle", value: "dir",
                    help: "Make the sandbox's bundle here (a missing or empty directory) instead of under /run/safehouse-agent; its owner removes it (and unmounts an image's rootfs/ in it) after the delete."),
        ],
        arguments: [Verb.Argument(name: "snapshot", help: "The snapshot directory agent checkpoint wrote.")])

    public static let agentStopAll = Verb(
        path: "agent stop-all", abstract: "Emergency stop: kill every sandbox under the root at once (cgroup-wide SIGKILL).")

    static let liveRules = Verb.Trailing(
        name: "rule", help: "Rules as network.allow writes them: host, *.domain, host:port, host:LOW-HIGH, address or CIDR.",
        start: .afterArguments)

    static let liveDiscussion = """
        The running sandbox's warden changes its allowlist at once: every new \
        connection is judged by the new rules, a connection already made keeps its \
        verdict. Each change is a record of the sandbox's audit log (egress-rules) \
        naming who asked (uid, pid, command).
        """

    public static let agentAllow = Verb(
        path: "agent allow", abstract: "Add rules to a running sandbox's egress allowlist.",
        discussion: liveDiscussion + " A rule equal to one a deny added takes that refusal away.",
        arguments: [Verb.Argument(name: "id", help: "The sandbox's container id.")], trailing: liveRules)

    public static let agentDeny = Verb(
        path: "agent deny", abstract: "Take rules from a running sandbox's egress allowlist, or refuse a destination.",
        discussion: liveDiscussion + " A rule equal to an allow rule (the policy's too) removes it; any other becomes a refusal, which wins over every allow rule (deny one host under an allowed *.domain).",
        arguments: [Verb.Argument(name: "id", help: "The sandbox's container id.")], trailing: liveRules)

    public static let agentRules = Verb(
        path: "agent rules", abstract: "Print a running sandbox's egress rules, one a line: allow|deny RULE (where it came from).",
        arguments: [Verb.Argument(name: "id", help: "The sandbox's container id.")])
}
