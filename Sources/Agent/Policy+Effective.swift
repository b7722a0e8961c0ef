import OCI

/// The effective policy in a line: what a sandbox actually runs with once a policy is
/// laid over its base and the command line's flags are applied. `agent spec` puts it
/// in the io.safehouse.policy.effective annotation, `agent run`'s summary prints it,
/// so a policy that omits a section can be seen to keep its base's limits.
extension Policy {
    /// The effective values as (name, value) pairs, in a fixed order.
    public var effectiveFields: [(String, String)] {
        func limit(_ v: String?) -> String { v ?? "unlimited" }
        var fields: [(String, String)] = [
            ("extends", extends ?? "none"),
            ("memory", limit(limits.memory.map { Quantity.describe(bytes: $0) })),
            ("cpus", limit(limits.cpus.map { $0 == $0.rounded() ? String(Int($0)) : String($0) })),
            ("pids", limit(limits.pids.map { String($0) })),
            ("timeout", limit(limits.timeout.map { Quantity.describe(seconds: $0) })),
            ("disk", Quantity.describe(bytes: limits.disk)),
            ("scratch", Quantity.describe(bytes: filesystem.scratch)),
            ("readonlyRoot", filesystem.readonlyRoot ? "true" : "false"),
            ("network", network.allow.isEmpty ? "none" : network.allow.joined(separator: " ")),
            ("capabilities", capabilities.isEmpty ? "none" : capabilities.joined(separator: " ")),
            ("syscalls", syscalls.rawValue),
            ("backend", backend.rawValue),
            ("workdir", workdir),
        ]
        // Said only when set, so the line of a policy without them reads as before.
        if let decider = network.decider {
            fields.append(("decider", decider + " (" + Quantity.describe(seconds: network.deciderTimeout ?? 2) + ")"))
        }
        if !secrets.isEmpty { fields.append(("secrets", secrets.map(\.name).joined(separator: " "))) }
        if user.userNamespace, let first = user.hostID {
            fields.append(("hostIDs", "\(first)-\(UInt64(first) + UInt64(user.idCount) - 1)"))
        } else if !user.userNamespace {
            fields.append(("hostIDs", "host (no user namespace)"))
        }
        return fields
    }

    /// "memory=1Gi cpus=1 pids=256 timeout=10m ...": one line, for the annotation and
    /// the text summary.
    public var effectiveLine: String {
        // A loop, not joined(separator:): the generic joined has the Swift runtime look
        // up a conformance, a scan of every one in this static binary (perf).
        var line = ""
        for (name, value) in effectiveFields {
            if !line.isEmpty { line += " " }
            line += name + "=" + (value.utf8.contains(UInt8(ascii: " ")) ? "[" + value + "]" : value)
        }
        return line
    }

    /// The same as a JSON object, for the JSON summary.
    public var effectiveJSON: String {
        "{" + effectiveFields.map { "\(FlatJSONWriter.quoted($0.0)):\(FlatJSONWriter.quoted($0.1))" }.joined(separator: ",") + "}"
    }
}
