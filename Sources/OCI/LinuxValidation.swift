// Tracks the OCI runtime-spec v1.2.0 (config-linux.md).
//
// The checks of the `linux` object: namespaces, id mappings, devices, sysctls, paths.

extension SpecValidator {
    func checkLinux() throws {
        guard let linux = spec.linux else { return }
        try checkNamespaces(linux.namespaces ?? [])
        // Two calls, not a loop over an array of (name, mappings) tuples: the runtime
        // builds that tuple array's type from its mangled name (~50k instructions).
        try checkMappings("uidMappings", linux.uidMappings ?? [], userNamespace: linux.namespace(.user))
        try checkMappings("gidMappings", linux.gidMappings ?? [], userNamespace: linux.namespace(.user))
        try checkDevices(linux.devices ?? [])
        try checkSysctls(linux)
        if let propagation = linux.rootfsPropagation, !propagation.isEmpty,
           !LinuxConfig.rootfsPropagationModes.contains(propagation) {
            throw OCIError(field: "linux.rootfsPropagation", message: "unknown propagation \(FieldPath.quoted(propagation)) (expected one of \(LinuxConfig.rootfsPropagationModes.joined(separator: ", ")))")
        }
        for (index, path) in (linux.maskedPaths ?? []).enumerated() {
            try checkAbsolute(path, field: "linux.maskedPaths[\(index)]")
        }
        for (index, path) in (linux.readonlyPaths ?? []).enumerated() {
            try checkAbsolute(path, field: "linux.readonlyPaths[\(index)]")
        }
        try checkTimeOffsets(linux)
        try checkSeccomp(linux.seccomp)
    }

    private func checkNamespaces(_ namespaces: [LinuxNamespace]) throws {
        // A linear search, not a Dictionary: on a start-up path every new Hashable
        // instantiation costs a scan of the binary's conformance records.
        for (index, namespace) in namespaces.enumerated() {
            if let first = namespaces[..<index].firstIndex(where: { $0.type == namespace.type }) {
                throw OCIError(field: "linux.namespaces[\(index)].type", message: "duplicate namespace \(FieldPath.quoted(namespace.type.rawValue)) (first at linux.namespaces[\(first)])")
            }
            if let path = namespace.path, !path.isEmpty {
                try checkAbsolute(path, field: "linux.namespaces[\(index)].path")
            }
        }
    }

    private func checkMappings(_ name: String, _ list: [LinuxIDMapping], userNamespace: LinuxNamespace?) throws {
        if !list.isEmpty, userNamespace == nil {
            throw OCIError(field: "linux.\(name)", message: "requires a user namespace (add {\"type\": \"user\"} to linux.namespaces)")
        }
        for (index, mapping) in list.enumerated() where mapping.size == 0 {
            throw OCIError(field: "linux.\(name)[\(index)].size", message: "must be greater than zero")
        }
        try checkMappingRanges(name, list)
        // A new user namespace without a mapping leaves every id unmapped (nobody),
        // and the container cannot set up anything; runc refuses it too.
        if list.isEmpty, let userNamespace, !userNamespace.joinsExisting {
            throw OCIError(field: "linux.\(name)", message: "is required when the container gets a new user namespace")
        }
    }

    /// The kernel takes a map only if no two lines overlap, inside the container or on
    /// the host, and every range fits in 32 bits (user_namespaces(7)); it caps a map at
    /// 340 lines. A map it refuses would leave the new user namespace unmapped, so
    /// the ranges are checked here, before anything exists, and the overlapping pair
    /// is named.
    private func checkMappingRanges(_ name: String, _ list: [LinuxIDMapping]) throws {
        if list.count > Self.maximumMappingLines {
            throw OCIError(field: "linux.\(name)", message: "has \(list.count) entries; the kernel accepts at most \(Self.maximumMappingLines)")
        }
        let limit = UInt64(UInt32.max) + 1
        for (index, mapping) in list.enumerated() {
            if UInt64(mapping.containerID) + UInt64(mapping.size) > limit {
                throw OCIError(field: "linux.\(name)[\(index)]", message: "containerID \(mapping.containerID) + size \(mapping.size) exceeds the 32-bit id range")
            }
            if UInt64(mapping.hostID) + UInt64(mapping.size) > limit {
                throw OCIError(field: "linux.\(name)[\(index)]", message: "hostID \(mapping.hostID) + size \(mapping.size) exceeds the 32-bit id range")
            }
        }
        // Quadratic, but over at most 340 entries (nearly always one or two).
        for (index, mapping) in list.enumerated() {
            for earlier in 0..<index {
                let other = list[earlier]
                if Self.overlaps(mapping.containerID, other.containerID, mapping.size, other.size) {
                    throw OCIError(field: "linux.\(name)[\(index)]", message: "container ids \(Self.range(mapping.containerID, mapping.size)) overlap linux.\(name)[\(earlier)] (\(Self.range(other.containerID, other.size))); the kernel refuses overlapping mappings")
                }
                if Self.overlaps(mapping.hostID, other.hostID, mapping.size, other.size) {
                    throw OCIError(field: "linux.\(name)[\(index)]", message: "host ids \(Self.range(mapping.hostID, mapping.size)) overlap linux.\(name)[\(earlier)] (\(Self.range(other.hostID, other.size))); the kernel refuses overlapping mappings")
                }
            }
        }
    }

    /// The kernel's limit on lines in uid_map and gid_map (since Linux 4.15).
    static let maximumMappingLines = 340

    static func overlaps(_ a: UInt32, _ b: UInt32, _ sizeA: UInt32, _ sizeB: UInt32) -> Bool {
        UInt64(a) < UInt64(b) + UInt64(sizeB) && UInt64(b) < UInt64(a) + UInt64(sizeA)
    }

    static func range(_ first: UInt32, _ size: UInt32) -> String {
        "\(first)-\(UInt64(first) + UInt64(size) - 1)"
    }

    private func checkDevices(_ devices: [LinuxDevice]) throws {
        for (index, device) in devices.enumerated() {
            let field = "linux.devices[\(index)]"
            try checkAbsolute(device.path, field: "\(field).path")
            guard LinuxDevice.types.contains(device.type) else {
                throw OCIError(field: "\(field).type", message: "must be one of \(LinuxDevice.types.joined(separator: ", ")), found \(FieldPath.quoted(device.type))")
            }
            // mknod(2) needs a device number for every node but a FIFO.
            if device.type != "p" {
                if device.major == nil {
                    throw OCIError(field: "\(field).major", message: "is required for a device of type \(device.type)")
                }
                if device.minor == nil {
                    throw OCIError(field: "\(field).minor", message: "is required for a device of type \(device.type)")
                }
            }
        }
    }

    /// A sysctl written without its namespace would change the host, so each must be
    /// one the kernel namespaces and the container must have that namespace (as runc's
    /// validator insists). Keys are checked in sorted order so the error is stable.
    private func checkSysctls(_ linux: LinuxConfig) throws {
        for key in (linux.sysctl ?? [:]).keys.sorted() {
            let field = FieldPath.appending(mapKey: key, to: "linux.sysctl")
            guard let needed = Self.namespace(forSysctl: key) else {
                throw OCIError(field: field, message: "is not namespaced, so setting it in a container would change the host")
            }
            if linux.namespace(needed) == nil {
                throw OCIError(field: field, message: "requires a \(needed.rawValue) namespace (add {\"type\": \"\(needed.rawValue)\"} to linux.namespaces)")
            }
        }
    }

    /// The namespace that isolates sysctl `key`, or nil when none does.
    static func namespace(forSysctl key: String) -> LinuxNamespaceType? {
        if key.hasPrefix("net.") { return .network }
        if key.hasPrefix("fs.mqueue.") { return .ipc }
        if key.hasPrefix("kernel.shm") || key.hasPrefix("kernel.msg") || key == "kernel.sem" { return .ipc }
        if key == "kernel.hostname" || key == "kernel.domainname" { return .uts }
        return nil
    }

    private func checkTimeOffsets(_ linux: LinuxConfig) throws {
        guard let offsets = linux.timeOffsets, !offsets.isEmpty else { return }
        guard linux.namespace(.time) != nil else {
            throw OCIError(field: "linux.timeOffsets", message: "requires a time namespace (add {\"type\": \"time\"} to linux.namespaces)")
        }
        for clock in offsets.keys.sorted() where !LinuxTimeOffset.clocks.contains(clock) {
            throw OCIError(field: FieldPath.appending(mapKey: clock, to: "linux.timeOffsets"), message: "unknown clock (expected one of \(LinuxTimeOffset.clocks.joined(separator: ", ")))")
        }
    }

    private func checkSeccomp(_ seccomp: LinuxSeccomp?) throws {
        guard let seccomp else { return }
        var notifies = seccomp.defaultAction == .notify
        for (index, rule) in (seccomp.syscalls ?? []).enumerated() {
            if rule.names.isEmpty {
                throw OCIError(field: "linux.seccomp.syscalls[\(index)].names", message: "must name at least one system call")
            }
            notifies = notifies || rule.action == .notify
        }
        // SCMP_ACT_NOTIFY hands the listener fd to a process at listenerPath; without
        // one, every notifying call would block forever.
        if notifies, (seccomp.listenerPath ?? "").isEmpty {
            throw OCIError(field: "linux.seccomp.listenerPath", message: "is required when an action is SCMP_ACT_NOTIFY")
        }
    }
}
