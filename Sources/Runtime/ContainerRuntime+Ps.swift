import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// `ps --format json`: the host pids of the container's processes, the list
    /// containerd's shim reads.
    public func processIDs(id: String) throws -> [Int32] {
        try ContainerID.validate(id)
        guard Files.isDirectory(store.directory(of: id)) else { throw RuntimeError.containerNotFound(id) }
        let record = try store.load(id)
        if record.backend == .gvisor { return processIDsGvisor(record) }
        guard status(of: record) != .stopped else { return [] }
        return processes(of: record).filter { Processes.isAlive($0) }
    }

    /// `ps` (table): the host's `ps` output (with `psArguments`, default `-ef`) cut to
    /// the container's processes, found by the PID column of its header, as runc does.
    public func processTable(id: String, psArguments: [String]) throws -> String {
        try ContainerID.validate(id)
        if Files.isDirectory(store.directory(of: id)), let record = try? store.load(id), record.backend == .gvisor {
            return try processTableGvisor(record)
        }
        let pids = Set(try processIDs(id: id))
        let output = try Self.capture(["ps"] + (psArguments.isEmpty ? ["-ef"] : psArguments))
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.first else { return output }
        guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
            throw RuntimeError("ps: the output has no PID column (give ps arguments that print one)")
        }
        lines.removeFirst()
        let kept = lines.filter { line in
            let fields = line.split(separator: " ")
            return fields.count > column && Int32(fields[column]).map(pids.contains) == true
        }
        return ([header] + kept).joined(separator: "\n")
    }

    /// Runs a host command found on PATH and returns its standard output.
    static func capture(_ argv: [String]) throws -> String {
        let env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        guard let path = Processes.lookPath(argv[0], env: env) else {
            throw RuntimeError("\(argv[0]): not found on PATH")
        }
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        let pid = try Processes.fork()
        if pid == 0 {
            _ = dup2(writeEnd.rawValue, 1)
            Signals.resetForExec()
            _ = Processes.exec(path: path, args: argv, env: env)
            _exit(127)
        }
        writeEnd.close()
        let bytes = try readEnd.readAll(limit: 16 << 20)
        let status = try Processes.wait(pid)
        guard status == .exited(0) else { throw RuntimeError("\(argv.joined(separator: " ")): exit status \(status.shellCode)") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
