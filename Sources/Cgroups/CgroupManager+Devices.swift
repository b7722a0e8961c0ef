import Linux
import OCI

extension CgroupManager {
    /// The devices runc allows in every container, appended after the spec's rules
    /// (runc's specconv AllowedDevices): mknod of any char or block device,
    /// /dev/null, random, full, tty, zero, urandom, the ptys, ptmx and tun.
    public static let runcDefaultDeviceRules: [LinuxDeviceCgroup] = [
        LinuxDeviceCgroup(allow: true, type: "c", access: "m"),
        LinuxDeviceCgroup(allow: true, type: "b", access: "m"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 136, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
    ]

    /// A rule as devices.allow / devices.deny take it: "c 1:3 rwm", "b 8:* r".
    static func deviceRuleText(_ d: LinuxDeviceCgroup) -> String {
        let type = d.type ?? "a"
        let major = d.major.map(String.init) ?? "*", minor = d.minor.map(String.init) ?? "*"
        return "\(type) \(major):\(minor) \(canonicalAccess(d.access))"
    }

    /// The access letters as the kernel parses them: some of "rwm", each once, in that
    /// order. Engines send them in any order and sometimes repeated ("mrw", "rrw");
    /// the v1 devices.allow parser reads only the first three characters, so "mmrw"
    /// written as given would silently drop the "w". Absent means all three.
    static func canonicalAccess(_ access: String?) -> String {
        guard let access else { return "rwm" }
        var out = ""
        for letter in "rwm" where access.contains(letter) { out.append(letter) }
        return out
    }

    /// A rule that matches every device (type a, no numbers).
    static func isAllDevices(_ d: LinuxDeviceCgroup) -> Bool {
        (d.type ?? "a") == "a" && d.major == nil && d.minor == nil
    }

    /// The v1 writes for `rules`, in order: a spec that starts by denying everything
    /// first switches the cgroup to deny-all ("a" into devices.deny, which also
    /// drops inherited exceptions), then each rule goes to devices.allow or
    /// devices.deny as written. This is the transition runc's device emulator
    /// computes from a fresh (allow-all) cgroup.
    static func deviceWrites(_ rules: [LinuxDeviceCgroup], dir: String) -> [(file: String, value: String)] {
        var writes: [(file: String, value: String)] = []
        var rest = rules[...]
        if let first = rest.first, !first.allow, isAllDevices(first) {
            writes.append((dir + "/devices.deny", "a"))
            rest = rest.dropFirst()
        }
        for d in rest {
            let text = isAllDevices(d) && canonicalAccess(d.access) == "rwm" ? "a" : deviceRuleText(d)
            writes.append((dir + (d.allow ? "/devices.allow" : "/devices.deny"), text))
        }
        return writes
    }

    func applyDevices(_ specRules: [LinuxDeviceCgroup], defaults: Bool, _ write: FileWriter) throws {
        // At create the target is a whitelist, as runc's device emulator builds it:
        // everything not allowed by a rule is denied, whether or not the spec starts
        // with "deny all" (a spec with no device rules still gets only the defaults).
        // Update (defaults false) writes the spec's rules as given.
        var rules = specRules + (defaults ? Self.runcDefaultDeviceRules : [])
        if defaults, !(specRules.first.map { !$0.allow && Self.isAllDevices($0) } ?? false) {
            rules.insert(LinuxDeviceCgroup(allow: false, access: "rwm"), at: 0)
        }
        guard !rules.isEmpty else { return }
        for h in layout.v1 where h.controllers.contains("devices") {
            guard let dir = directory(in: h) else { continue }
            for w in Self.deviceWrites(rules, dir: dir) { try write(w.file, w.value) }
            return
        }
        // No v1 devices controller: on a pure cgroup v2 host the device policy is an
        // eBPF program attached to the container's cgroup (runc's devicefilter; see
        // CgroupManager+DevicesV2.swift), installed at create even when the spec has no
        // rules (the program's default is deny, as runc's). In hybrid mode devices stay
        // on v1.
        if defaults || !specRules.isEmpty, layout.mode == .v2 {
            guard let unified = layout.unified, let dir = directory(in: unified), dir != unified.mountPoint else {
                throw CgroupError(message: "linux.resources.devices: no cgroup v2 directory of the container's own to attach the device program to")
            }
            try Self.installDeviceFilter(rules, cgroupDirectory: dir)
        }
    }
}
