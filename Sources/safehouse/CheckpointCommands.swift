import ContainerCore
import Flags
import Runtime

extension CheckpointOptions {
    /// The flags `checkpoint` and `restore` share (Verbs.criuFlags), and runc's global
    /// `--criu`. runc's default image path is `checkpoint` in the working directory.
    init(_ a: ParsedArguments, criu: String?) throws {
        self.init(imagePath: a.string("--image-path") ?? "checkpoint")
        workPath = a.string("--work-path")
        tcpEstablished = a.isSet("--tcp-established")
        extUnixSockets = a.isSet("--ext-unix-sk")
        shellJob = a.isSet("--shell-job")
        fileLocks = a.isSet("--file-locks")
        manageCgroupsMode = a.string("--manage-cgroups-mode")
        emptyNamespaces = a.strings("--empty-ns")
        for ns in emptyNamespaces where ns != "network" {
            throw UsageError(verb: a.verb.path, "--empty-ns \(ns): only network can be made empty")
        }
        autoDedup = a.isSet("--auto-dedup")
        lazyPages = a.isSet("--lazy-pages")
        self.criu = criu
    }
}

extension Commands {
    /// `checkpoint ID`: CRIU's (or runsc's) image of the container.
    static func checkpoint(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        var options = try CheckpointOptions(a, criu: global.criu)
        options.parentPath = a.string("--parent-path")
        options.leaveRunning = a.isSet("--leave-running")
        options.preDump = a.isSet("--pre-dump")
        options.pageServer = a.string("--page-server")
        options.statusFd = try a.integer("--status-fd")
        try global.perform { try $0.checkpoint(id: a.arguments[0], options: options) }
    }

    /// `restore ID`: a new container from the bundle and a checkpoint; detached it
    /// returns once it runs, otherwise it exits with the container's status.
    static func restore(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        // Refused before anything is read: neither CRIU's saved root nor runsc's can
        // be entered another way, and safehouse applies no LSM labels.
        for flag in ["--no-pivot", "--lsm-profile", "--lsm-mount-context"] where a.isSet(flag) || a.string(flag) != nil {
            throw UsageError(verb: a.verb.path, "\(flag) is not supported (see docs/checkpoint.md)")
        }
        let options = CreateOptions(bundle: a.value("--bundle"), pidFile: a.string("--pid-file"),
                                    consoleSocket: a.string("--console-socket"))
        let checkpoint = try CheckpointOptions(a, criu: global.criu)
        let code = try global.perform {
            try $0.restore(id: a.arguments[0], options: options, checkpoint: checkpoint, detach: a.isSet("--detach"),
                           subreaper: !a.isSet("--no-subreaper"))
        }
        if code != 0 { throw ExitCode(code) }
    }
}
