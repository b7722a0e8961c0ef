import CLinux
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program (see
/// DeviceFilterProgram) attached to the container's cgroup directory, as runc's
/// libcontainer/cgroups/devices/ebpf_linux.go does.
///
/// The program is attached with BPF_F_ALLOW_MULTI, so a program the parent cgroup
/// carries still runs (programs up the tree can only narrow access). Replacing the
/// rules (a second call on the same cgroup) attaches the new program first and then
/// detaches every device program that was attached before, so the cgroup is never
/// left without one. The attachment keeps the program alive; no descriptor is kept
/// open, and the kernel drops the program with the cgroup.
///
/// Kernels before 5.11 charge BPF programs to RLIMIT_MEMLOCK (runc raises it first);
/// this runtime targets newer kernels, where the load is charged to the memory cgroup.
extension CgroupManager {
    /// Loads the program for `rules` and attaches it to `dir`, replacing the device
    /// programs attached there before.
    public static func installDeviceFilter(_ rules: [LinuxDeviceCgroup], cgroupDirectory dir: String) throws {
        let program = DeviceFilterProgram.bytes(try DeviceFilterProgram.instructions(for: rules))
        try withCgroupDirectory(dir) { cgroup in
            let old = try attachedDeviceFilterIDs(cgroup, dir: dir)
            let prog = try loadDeviceFilter(program)
            defer { prog.close() }
            if sh_bpf_attach_cgroup_device(cgroup, prog.rawValue, SH_BPF_F_ALLOW_MULTI) < 0 {
                throw bpfError("BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)", dir, errno)
            }
            for id in old { try detach(id: id, from: cgroup, dir: dir) }
        }
    }

    /// Detaches every device program attached to `dir` (the ones this process may see).
    public static func removeDeviceFilters(cgroupDirectory dir: String) throws {
        try withCgroupDirectory(dir) { cgroup in
            for id in try attachedDeviceFilterIDs(cgroup, dir: dir) { try detach(id: id, from: cgroup, dir: dir) }
        }
    }

    /// The ids of the device programs attached to `dir` itself (not inherited ones).
    public static func attachedDeviceFilterIDs(cgroupDirectory dir: String) throws -> [UInt32] {
        try withCgroupDirectory(dir) { try attachedDeviceFilterIDs($0, dir: dir) }
    }

    // MARK: system calls

    /// Calls `body` with the descriptor of the cgroup directory `dir`, open for it.
    static func withCgroupDirectory<T>(_ dir: String, _ body: (Int32) throws -> T) throws -> T {
        let cgroup: FileDescriptor
        do {
            cgroup = try FileDescriptor.open(dir, O_RDONLY | O_DIRECTORY)
        } catch let e as SystemError {
            throw CgroupError(message: "cgroup \(dir): device filter: open: \(SystemError.message(for: e.errno))", path: dir, errno: e.errno)
        }
        defer { cgroup.close() }
        return try body(cgroup.rawValue)
    }

    static func bpfError(_ call: String, _ dir: String, _ code: Int32, detail: String = "") -> CgroupError {
        CgroupError(message: "cgroup \(dir): device filter: \(call): \(SystemError.message(for: code))\(detail)", path: dir, errno: code)
    }

    static func attachedDeviceFilterIDs(_ fd: Int32, dir: String) throws -> [UInt32] {
        // A cgroup holds at most 64 programs per attach type; ENOSPC reports the count.
        var room = 64
        for _ in 0..<10 {
            var ids = [UInt32](repeating: 0, count: room)
            var count = UInt32(room)
            let rc = ids.withUnsafeMutableBufferPointer { sh_bpf_query_cgroup_device(fd, $0.baseAddress, &count) }
            if rc == 0 { return Array(ids.prefix(Int(min(count, UInt32(room))))) }
            let code = errno
            if code == ENOSPC { room = max(Int(count), room * 2); continue }
            throw bpfError("BPF_PROG_QUERY (BPF_CGROUP_DEVICE)", dir, code)
        }
        throw CgroupError(message: "cgroup \(dir): device filter: BPF_PROG_QUERY: the list of attached programs keeps changing", path: dir)
    }

    static func loadDeviceFilter(_ program: [UInt8]) throws -> FileDescriptor {
        var log = [CChar](repeating: 0, count: 16 * 1024)
        let fd = program.withUnsafeBytes { insns in
            log.withUnsafeMutableBufferPointer { buf in
                sh_bpf_load_cgroup_device(insns.baseAddress, UInt32(program.count / 8),
                                          DeviceFilterProgram.license, buf.baseAddress, UInt32(buf.count))
            }
        }
        if fd < 0 {
            let code = errno
            let verifier = log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                .split(separator: "\n").suffix(3).joined(separator: "; ")
            throw bpfError("BPF_PROG_LOAD (BPF_PROG_TYPE_CGROUP_DEVICE)", "program", code,
                           detail: verifier.isEmpty ? "" : " (verifier: \(verifier))")
        }
        return FileDescriptor(adopting: fd)
    }

    /// Detaches program `id`. Programs this process may not open (an LSM label, as
    /// runc notes for systemd's) are left: another device program can only narrow
    /// access. One that went away meanwhile needs nothing.
    static func detach(id: UInt32, from cgroup: Int32, dir: String) throws {
        let fd = sh_bpf_prog_fd_by_id(id)
        if fd < 0 {
            let code = errno
            if code == EPERM || code == EACCES || code == ENOENT { return }
            throw bpfError("BPF_PROG_GET_FD_BY_ID \(id)", dir, code)
        }
        defer { _ = Glibc.close(fd) }
        if sh_bpf_detach_cgroup_device(cgroup, fd) < 0 {
            let code = errno
            if code == ENOENT { return }
            throw bpfError("BPF_PROG_DETACH (BPF_CGROUP_DEVICE) of program \(id)", dir, code)
        }
    }
}
