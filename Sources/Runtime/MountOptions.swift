import Linux

/// A mount's `options` array split the way mount(8) and runc split it: flags for
/// mount(2), propagation flags applied in a second call, and the rest joined into
/// the filesystem-specific data string ("mode=755,size=65536k").
struct MountOptions: Equatable {
    var flags: MountFlags = []
    var propagation: [MountFlags] = []
    var data: [String] = []

    var dataString: String? { data.isEmpty ? nil : data.joinedBy(",") }
    var isBind: Bool { flags.contains(.bind) }

    // Switches, not [String: MountFlags] dictionaries: the init parses every mount's
    // options, and the first String-keyed dictionary of a process makes the Swift
    // runtime scan all of the binary's conformance records (callgrind, perf).
    private static func setting(_ name: String) -> MountFlags? {
        switch name {
        case "bind": return .bind
        case "rbind": return [.bind, .recursive]
        case "ro": return .readOnly
        case "nosuid": return .noSuid
        case "nodev": return .noDev
        case "noexec": return .noExec
        case "sync": return .synchronous
        case "remount": return .remount
        case "mand": return .mandatoryLock
        case "dirsync": return .dirSync
        case "noatime": return .noAtime
        case "nodiratime": return .noDirAtime
        case "relatime": return .relatime
        case "strictatime": return .strictAtime
        case "iversion": return .iVersion
        case "lazytime": return .lazyTime
        case "silent": return .silent
        case "nosymfollow": return .noSymFollow
        default: return nil
        }
    }

    private static func clearing(_ name: String) -> MountFlags? {
        switch name {
        case "rw": return .readOnly
        case "suid": return .noSuid
        case "dev": return .noDev
        case "exec": return .noExec
        case "async": return .synchronous
        case "nomand": return .mandatoryLock
        case "atime": return .noAtime
        case "diratime": return .noDirAtime
        case "norelatime": return .relatime
        case "nostrictatime": return .strictAtime
        case "noiversion": return .iVersion
        case "nolazytime": return .lazyTime
        case "loud": return .silent
        case "defaults": return []
        default: return nil
        }
    }

    private static func propagation(_ name: String) -> MountFlags? {
        switch name {
        case "private": return .private
        case "rprivate": return [.private, .recursive]
        case "shared": return .shared
        case "rshared": return [.shared, .recursive]
        case "slave": return .slave
        case "rslave": return [.slave, .recursive]
        case "unbindable": return .unbindable
        case "runbindable": return [.unbindable, .recursive]
        default: return nil
        }
    }

    /// Every option name this parser understands (for the features document).
    static let knownNames: [String] = [
        "bind", "rbind", "ro", "nosuid", "nodev", "noexec", "sync", "remount", "mand", "dirsync",
        "noatime", "nodiratime", "relatime", "strictatime", "iversion", "lazytime", "silent", "nosymfollow",
        "rw", "suid", "dev", "exec", "async", "nomand", "atime", "diratime", "norelatime",
        "nostrictatime", "noiversion", "nolazytime", "loud", "defaults",
        "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
    ]

    init(_ options: [String]) {
        for option in options {
            if let f = Self.setting(option) {
                flags.insert(f)
            } else if let f = Self.clearing(option) {
                flags.subtract(f)
            } else if let p = Self.propagation(option) {
                propagation.append(p)
            } else if option == "idmap" || option == "ridmap" || option == "tmpcopyup" {
                // Extensions this runtime does not implement yet; they carry no data.
                continue
            } else {
                data.append(option)
            }
        }
    }

    /// The propagation flag for `root.rootfsPropagation` (runc makes "/" rslave by default).
    static func rootPropagation(_ name: String?) -> MountFlags {
        guard let name, let p = propagation(name) else { return [.slave, .recursive] }
        return p.union(.recursive)
    }
}
