import Images
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// An image's config (env, working directory, user, entrypoint and cmd) as the
/// defaults of a sandbox run from it; the policy wins where it says something:
///
/// - env: the image's variables, then the policy's and `--env` over them (the
///   generator's PATH and HOME only where the image sets none);
/// - working directory: the image's, unless `--workdir` or a policy sets one other than
///   the default profile's `/scratch`;
/// - user: the image's (numeric, or names looked up in the image's own /etc/passwd and
///   /etc/group), unless the policy sets a uid or gid other than 0;
/// - command: the image's Entrypoint followed by the command after `--`, or by the
///   image's Cmd when none is given (as `docker run` and `podman run` read them).
public enum ImageDefaults {
    /// The command a sandbox of `config` runs for the words after `--`.
    public static func command(_ config: ImageConfig, args: [String]) -> [String] {
        (config.entrypoint ?? []) + (args.isEmpty ? (config.cmd ?? []) : args)
    }

    /// Applies `config` to the policy and request; `rootfs` is the image's root as
    /// mounted (for user names).
    public static func apply(_ config: ImageConfig, to policy: inout Policy, _ request: inout SandboxRequest,
                             workdirFlag: String?, rootfs: String) throws {
        var env = config.env ?? []
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.insert("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", at: 0) }
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=/root") }
        request.baseEnv = env
        if workdirFlag == nil, policy.workdir == Policy(source: "").workdir, let dir = config.workingDir, !dir.isEmpty {
            guard dir.hasPrefix("/"), !dir.split(separator: "/").contains("..") else {
                throw PolicyError("--image: the image's WorkingDir \"\(dir)\" is not an absolute path without \"..\"")
            }
            policy.workdir = dir
        }
        if policy.user.uid == 0, policy.user.gid == 0, let user = config.user, !user.isEmpty {
            (policy.user.uid, policy.user.gid) = try ids(of: user, rootfs: rootfs)
        }
    }

    /// "uid", "uid:gid", "name" or "name:group", names from the image's files.
    static func ids(of user: String, rootfs: String) throws -> (UInt32, UInt32) {
        let parts = user.split(separator: ":", maxSplits: 1).map(String.init)
        let userPart = parts[0]
        var uid: UInt32, gid: UInt32
        if let n = UInt32(userPart) {
            uid = n
            gid = Self.lookup(rootfs, "/etc/passwd", uid: n)?.gid ?? n
        } else {
            guard let entry = Self.lookup(rootfs, "/etc/passwd", name: userPart) else {
                throw PolicyError("--image: the image's User \"\(user)\": no user \(userPart) in the image's /etc/passwd")
            }
            (uid, gid) = (entry.id, entry.gid)
        }
        if parts.count == 2 {
            if let n = UInt32(parts[1]) {
                gid = n
            } else {
                guard let group = Self.lookup(rootfs, "/etc/group", name: parts[1]) else {
                    throw PolicyError("--image: the image's User \"\(user)\": no group \(parts[1]) in the image's /etc/group")
                }
                gid = group.id
            }
        }
        return (uid, gid)
    }

    /// A line of the image's passwd or group file, by name or by uid. The file is
    /// opened beneath the image's root (RESOLVE_IN_ROOT): a symlink in the image
    /// cannot make the host's own /etc/passwd be read.
    static func lookup(_ rootfs: String, _ file: String, name: String? = nil, uid: UInt32? = nil) -> (id: UInt32, gid: UInt32)? {
        guard let root = try? FileDescriptor.openPath(directory: rootfs),
              let path = try? root.openPath(beneath: file),
              let bytes = try? FileDescriptor.open("/proc/self/fd/\(path.rawValue)", O_RDONLY).readAll(limit: 4 << 20)
        else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let id = UInt32(fields[2]) else { continue }
            let gid = fields.count >= 4 ? UInt32(fields[3]) ?? id : id
            if let name, fields[0] == name { return (id, gid) }
            if let uid, id == uid { return (id, gid) }
        }
        return nil
    }
}
