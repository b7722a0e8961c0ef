import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The native engine's checkpoints: CRIU's command line, with the facts runc's
/// libcontainer gives CRIU (bind mounts as external mounts, a joined network namespace
/// as external, the cgroups, the init's stdio), built from the container's spec.
///
/// CRIU must work on the host first: its `criu check` reads the kernel's features at
/// start-up (the vDSO layout among them), and a CRIU older than the kernel fails there
/// for every process. That is checked before anything is touched, and the refusal says
/// what CRIU said, so a failed checkpoint never leaves a container half dumped.
struct Criu {
    let executable: String

    /// CRIU by runc's global `--criu`, else `criu` in the sbin and bin directories.
    static func locate(_ configured: String?) throws -> Criu {
        if let configured {
            guard access(configured, X_OK) == 0 else { throw RuntimeError("--criu \(configured): not an executable") }
            return Criu(executable: configured)
        }
        guard let path = Processes.lookPath("criu", env: [RunscProcess.searchPath]) else {
            throw RuntimeError("criu not found in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin (apt-get install criu, or give --criu PATH)")
        }
        return Criu(executable: path)
    }

    /// `criu check`: nothing, or the refusal with CRIU's own last error line.
    func check() throws {
        let result = try RunscProcess(executable: executable, arguments: ["check"]).capture()
        guard result.status != .exited(0) else { return }
        let said = (result.stderr + result.stdout).split(separator: "\n").map(String.init)
        // The first error is the cause; the ones after it are its consequences.
        let line = said.first { $0.contains("Error") } ?? said.last ?? "exit status \(result.status.shellCode)"
        throw RuntimeError("criu check fails on this host (\(executable)), so it cannot checkpoint or restore here: \(line)")
    }

    /// Runs CRIU with `arguments`; on failure the error names the log to read and its
    /// last error line.
    func run(_ verb: String, _ arguments: [String], logFile: String) throws {
        let result = try RunscProcess(executable: executable, arguments: [verb] + arguments).capture()
        guard result.status == .exited(0) else {
            let log = (try? Files.readString(logFile)) ?? result.stderr
            let line = log.split(separator: "\n").last { $0.contains("Error") }.map(String.init) ?? "exit status \(result.status.shellCode)"
            throw RuntimeError("criu \(verb) failed (log: \(logFile)): \(line)")
        }
    }

    /// The options runc passes CRIU for both dump and restore.
    static func commonArguments(_ options: CheckpointOptions, imagePath: String, workPath: String,
                                logName: String) -> [String] {
        var args = ["--images-dir", imagePath, "--work-dir", workPath, "--log-file", logName, "-v4"]
        if options.tcpEstablished { args.append("--tcp-established") }
        if options.extUnixSockets { args.append("--ext-unix-sk") }
        if options.shellJob { args.append("--shell-job") }
        if options.fileLocks { args.append("--file-locks") }
        if options.autoDedup { args.append("--auto-dedup") }
        if options.lazyPages { args.append("--lazy-pages") }
        // runc's default mode is soft: CRIU restores the cgroups' tree, not their limits.
        args.append("--manage-cgroups=" + (options.manageCgroupsMode ?? "soft"))
        for ns in options.emptyNamespaces {
            // runc's --empty-ns takes only the network namespace (the others CRIU restores).
            if ns == "network" { args += ["--empty-ns", "net"] }
        }
        return args
    }

    /// runc's `--manage-cgroups-mode` values.
    static func checkCgroupsMode(_ mode: String?) throws {
        guard let mode else { return }
        guard ["soft", "full", "strict"].contains(mode) else {
            throw RuntimeError("--manage-cgroups-mode: \"\(mode)\" is not soft, full or strict")
        }
    }

    /// The spec's bind mounts, which CRIU cannot find the source of from inside the
    /// container's mount namespace: named by their destination at dump and mapped
    /// back to their (possibly new) source at restore.
    static func bindMounts(of spec: Spec) -> [Mount] {
        (spec.mounts ?? []).filter { m in
            m.type == "bind" || (m.options ?? []).contains("bind") || (m.options ?? []).contains("rbind")
        }
    }

    /// The joined network namespace, which is not the container's to dump: CRIU is told
    /// it is external (dump) and given it to join (restore), as runc does.
    static func joinedNetworkNamespace(of spec: Spec) -> String? {
        guard let path = spec.linux?.namespaces?.first(where: { $0.type == .network })?.path, !path.isEmpty else { return nil }
        return path
    }
}
