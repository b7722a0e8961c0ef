import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension NativeBackend {
    /// `ps --format json`: the host pids of the container's processes, the list
    /// containerd's shim reads.
    func processIDs(of record: ContainerRecord) throws -> [Int32] {
        guard status(of: record) != .stopped else { return [] }
        return record.processes().filter { Processes.isAlive($0) }
    }

    /// `ps` (table): the host's `ps` output (with `psArguments`, default `-ef`) cut to
    /// the container's processes, found by the PID column of its header, as runc does.
    func processTable(of record: ContainerRecord, psArguments: [String]) throws -> String {
        let pids = Set(try processIDs(of: record))
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
