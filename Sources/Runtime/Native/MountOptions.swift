import ContainerCore
import Linux

/// A mount's `options` array split the way mount(8) and runc split it: flags for
/// mount(2), propagation flags applied in a second call, and the rest joined into
/// the filesystem-specific data string ("mode=755,size=65536k").
struct MountOptions: Equatable {
    var flags: MountFlags = []
    var propagation: [MountFlags] = []
    /// The recursive attributes ("rro", "rnosuid"...): set on the mount and every mount
    /// below it with mount_setattr(AT_RECURSIVE), after it is mounted (config.md).
    var recursiveSet: MountFlags = []
    var recursiveClear: MountFlags = []
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
        case "symfollow": return .noSymFollow
        case "defaults": return []
        default: return nil
        }
    }

    /// A propagation option's flags (also the spec's `linux.rootfsPropagation`).
    static func propagation(_ name: String) -> MountFlags? {
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

    /// The recursive attribute options of config.md: (set, clear) for mount_setattr.
    /// The atime mode is one field, not a flag: "ratime" and "rnostrictatime" choose
    /// the kernel's default mode, relatime, as "atime" and "nostrictatime" leave a
    /// fresh mount in it (mount(8)); "rnorelatime" changes nothing, as in runc
    /// (relatime is the mode no flag asks for, so there is nothing to clear).
    private static func recursiveAttribute(_ name: String) -> (set: MountFlags, clear: MountFlags)? {
        switch name {
        case "rro": return (.readOnly, [])
        case "rrw": return ([], .readOnly)
        case "rnosuid": return (.noSuid, [])
        case "rsuid": return ([], .noSuid)
        case "rnodev": return (.noDev, [])
        case "rdev": return ([], .noDev)
        case "rnoexec": return (.noExec, [])
        case "rexec": return ([], .noExec)
        case "rnodiratime": return (.noDirAtime, [])
        case "rdiratime": return ([], .noDirAtime)
        case "rnoatime": return (.noAtime, [])
        case "rstrictatime": return (.strictAtime, [])
        case "rrelatime", "ratime", "rnostrictatime": return (.relatime, [])
        case "rnorelatime": return ([], [])
        case "rnosymfollow": return (.noSymFollow, [])
        case "rsymfollow": return ([], .noSymFollow)
        default: return nil
        }
    }

    /// Every option name this parser understands (for the features document).
    static let knownNames: [String] = [
        "bind", "rbind", "ro", "nosuid", "nodev", "noexec", "sync", "remount", "mand", "dirsync",
        "noatime", "nodiratime", "relatime", "strictatime", "iversion", "lazytime", "silent", "nosymfollow",
        "rw", "suid", "dev", "exec", "async", "nomand", "atime", "diratime", "norelatime",
        "nostrictatime", "noiversion", "nolazytime", "loud", "symfollow", "defaults",
        "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
        "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnodiratime", "rdiratime",
        "rnoatime", "rstrictatime", "rrelatime", "ratime", "rnostrictatime", "rnorelatime",
        "rnosymfollow", "rsymfollow",
    ]

    /// Whether any recursive attribute was asked for.
    var hasRecursiveAttributes: Bool { !recursiveSet.isEmpty || !recursiveClear.isEmpty }

    init(_ options: [String]) {
        for option in options {
            if let f = Self.setting(option) {
                flags.insert(f)
            } else if let f = Self.clearing(option) {
                flags.subtract(f)
            } else if let p = Self.propagation(option) {
                propagation.append(p)
            } else if let (set, clear) = Self.recursiveAttribute(option) {
                // A later option wins over an earlier one, as for the plain flags.
                recursiveSet.subtract(clear)
                recursiveClear.subtract(set)
                if !set.intersection([.noAtime, .strictAtime, .relatime]).isEmpty {
                    recursiveSet.subtract([.noAtime, .strictAtime, .relatime])
                }
                recursiveSet.formUnion(set)
                recursiveClear.formUnion(clear)
            } else if option == "idmap" || option == "ridmap" || option == "tmpcopyup" {
                // Extensions this runtime does not implement yet; they carry no data.
                continue
            } else {
                data.append(option)
            }
        }
    }
}
