import ContainerCore
import FoundationEssentials
import Linux
import OCI
import Sandbox

extension ContainerRuntime {
    /// The process `exec` starts in `record`'s container (ExecOptions.process); in a
    /// container made from a rewritten spec (a policy over an engine's), with the
    /// treatment of its init (OverlaidExec). With the container's config, and that
    /// overlay (nil for any other container).
    func execProcess(of record: ContainerRecord, options: ExecOptions) throws -> (Spec, OCI.Process, SandboxOverlay?) {
        let config = try store.loadConfig(record.id)
        let process = try options.process(base: config.process)
        guard record.ephemeralRoot, let overlay = try store.loadOverlay(of: record.id) else { return (config, process, nil) }
        return (config, OverlaidExec.process(process, container: config.process), overlay)
    }

    /// Before either backend starts an exec's process: no label it cannot apply, the
    /// exec on the record, a terminal only where it can go.
    func admitExec(_ process: OCI.Process, of record: ContainerRecord, options: ExecOptions) throws {
        try SecurityLabels.check(process: process, field: options.processFile == nil ? "process" : "--process")
        // The arguments, never the environment (its values may be credentials).
        recordAudit(record.annotations, record.id, "exec", ["args": .json(jsonArray(process.args ?? [])),
                                                            "cwd": .string(process.cwd), "detach": .string(options.detach ? "true" : "false")])
        if process.terminal ?? false, options.consoleSocket == nil, options.detach {
            throw RuntimeError("cannot allocate a terminal for a detached exec without --console-socket")
        }
    }
}

extension ExecOptions {
    /// The process to run: the --process file as given, or the container's own
    /// process with the command and the flags applied (runc does the same).
    func process(base: OCI.Process?) throws -> OCI.Process {
        if let file = self.processFile {
            let bytes = try stage("--process \(file)") { try Files.read(file, limit: 16 << 20) }
            // runc reads the file into Go's specs.Process, where an absent user is the
            // zero value, and shims write process.json without it.
            return try stage("--process \(file): not a valid process object") {
                try OCI.Process.decode(from: bytes, defaultUser: OCI.User(uid: 0, gid: 0))
            }
        }
        guard !self.args.isEmpty else { throw RuntimeError("exec needs a command (or --process FILE)") }
        guard var process = base else { throw RuntimeError("the container's config has no process to start from") }
        process.args = self.args
        process.terminal = self.tty
        process.consoleSize = nil
        if let cwd = self.cwd { process.cwd = cwd }
        if !self.env.isEmpty {
            var env = process.env ?? []
            for entry in self.env {
                let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
                env.removeAll { $0.hasPrefix(key + "=") }
                env.append(entry)
            }
            process.env = env
        }
        if let user = self.user {
            let parts = user.split(separator: ":", maxSplits: 1)
            guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw RuntimeError("--user \(user): expected uid[:gid] (numbers)")
            }
            process.user.uid = uid
            if parts.count == 2, let gid = UInt32(parts[1]) { process.user.gid = gid }
        }
        if !self.additionalGids.isEmpty { process.user.additionalGids = self.additionalGids }
        if !self.caps.isEmpty {
            var caps = process.capabilities ?? LinuxCapabilities()
            caps.bounding = (caps.bounding ?? []) + self.caps
            caps.effective = (caps.effective ?? []) + self.caps
            caps.permitted = (caps.permitted ?? []) + self.caps
            process.capabilities = caps
        }
        if self.noNewPrivileges { process.noNewPrivileges = true }
        return process
    }
}
