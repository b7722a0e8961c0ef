import Linux

/// A mount's `options` array split the way mount(8) and runc split it: flags for
/// mount(2), propagation flags applied in a second call, and the rest joined into
/// the filesystem-specific data string ("mode=755,size=65536k").
struct MountOptions: Equatable {
    var flags: MountFlags = []
    var propagation: [MountFlags] = []
    var data: [String] = []

    var dataString: String? { data.isEmpty ? nil : data.joined(separator: ",") }
    var isBind: Bool { flags.contains(.bind) }

    private static let setting: [String: MountFlags] = [
        "bind": .bind, "rbind": [.bind, .recursive], "ro": .readOnly, "nosuid": .noSuid,
        "nodev": .noDev, "noexec": .noExec, "sync": .synchronous, "remount": .remount,
        "mand": .mandatoryLock, "dirsync": .dirSync, "noatime": .noAtime,
        "nodiratime": .noDirAtime, "relatime": .relatime, "strictatime": .strictAtime,
        "iversion": .iVersion, "lazytime": .lazyTime, "silent": .silent, "nosymfollow": .noSymFollow,
    ]
    private static let clearing: [String: MountFlags] = [
        "rw": .readOnly, "suid": .noSuid, "dev": .noDev, "exec": .noExec, "async": .synchronous,
        "nomand": .mandatoryLock, "atime": .noAtime, "diratime": .noDirAtime,
        "norelatime": .relatime, "nostrictatime": .strictAtime, "noiversion": .iVersion,
        "nolazytime": .lazyTime, "loud": .silent, "defaults": [],
    ]
    private static let propagationNames: [String: MountFlags] = [
        "private": .private, "rprivate": [.private, .recursive],
        "shared": .shared, "rshared": [.shared, .recursive],
        "slave": .slave, "rslave": [.slave, .recursive],
        "unbindable": .unbindable, "runbindable": [.unbindable, .recursive],
    ]

    /// Every option name this parser understands (for the features document).
    static var knownNames: [String] {
        Array(setting.keys) + Array(clearing.keys) + Array(propagationNames.keys)
    }

    init(_ options: [String]) {
        for option in options {
            if let f = Self.setting[option] {
                flags.insert(f)
            } else if let f = Self.clearing[option] {
                flags.subtract(f)
            } else if let p = Self.propagationNames[option] {
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
        guard let name, let p = propagationNames[name] else { return [.slave, .recursive] }
        return p.union(.recursive)
    }
}
