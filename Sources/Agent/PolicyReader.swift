import Egress
import Runtime
/// Reads a policy document (YAML, or JSON, which YAML reads too) strictly: every key
/// must be known, every value of the right kind and unit. Errors read
/// "policy SOURCE: limits.memory: not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)".
///
/// Errors never quote the document: a path may name a file that is not a policy at
/// all (/etc/shadow), and its text must not come back in a message. An unknown key
/// is named only when it is a near miss of a known one (a typo, not a secret).
///
/// A document is laid over a base policy: the one its `extends:` names, else the
/// default profile (PolicyLibrary). A field it omits keeps the base's value; a limit
/// is removed only by saying `unlimited`.
public enum PolicyReader {
    /// Parses `text` over the shipped profiles (`extends:` names one of them).
    public static func parse(_ text: String, source: String) throws -> Policy {
        try PolicyLibrary(directories: []).parse(text, source: source, chain: [])
    }

    /// Parses `text`; `source` names it in errors and in the result; `base` gives the
    /// policy the document is laid over, from its `extends:` (nil when it has none).
    public static func parse(_ text: String, source: String, base: (String?) throws -> Policy) throws -> Policy {
        let tree: Any?
        do {
            tree = try PolicyYAML.parse(text)
        } catch {
            throw PolicyError("policy \(source): not valid YAML or JSON: \(error)")
        }
        let r = Reader(source: source)
        guard let tree, !(tree is PolicyYAML.Null) else { // an empty document: the base, unchanged
            var policy = try base(nil)
            policy.source = source
            return policy
        }
        let top = try r.map(tree, "", known: ["description", "filesystem", "limits", "user", "env", "workdir", "extends",
                                              "network", "backend", "audit", "auditKey", "auditMode", "capabilities", "syscalls", "secrets"])
        let extends = try top.first { $0.0 == "extends" }.map { try r.string($0.1, "extends") }
        var policy = try base(extends)
        policy.source = source
        for (key, value) in top {
            switch key {
            case "extends": break
            case "description": policy.description = try r.string(value, key)
            case "filesystem":
                try r.section(value, key, into: &policy, [
                    "input": { $0.filesystem.input = try r.absolutePath($1, $2) },
                    "output": { $0.filesystem.output = try r.absolutePath($1, $2) },
                    "scratch": { $0.filesystem.scratch = try r.size($1, $2) },
                    "outputSize": { $0.filesystem.outputSize = try r.size($1, $2, minimum: 1 << 20) },
                    "readonlyRoot": { $0.filesystem.readonlyRoot = try r.bool($1, $2) },
                ])
            case "limits":
                // `unlimited` removes the base's limit; omitting the key keeps it.
                try r.section(value, key, into: &policy, [
                    "memory": { $0.limits.memory = try r.unlimited($1) ? nil : r.size($1, $2, minimum: 4 << 20) },
                    "cpus": { $0.limits.cpus = try r.unlimited($1) ? nil : r.cpus($1, $2) },
                    "pids": { $0.limits.pids = try r.unlimited($1) ? nil : Int64(r.integer($1, $2, range: 1...4_194_304)) },
                    "timeout": { $0.limits.timeout = try r.unlimited($1) ? nil : r.timeout($1, $2) },
                    "disk": { $0.limits.disk = try r.size($1, $2, minimum: 1 << 20) },
                ])
            case "user":
                try r.section(value, key, into: &policy, [
                    "uid": { $0.user.uid = UInt32(try r.integer($1, $2, range: 0...65_535)) },
                    "gid": { $0.user.gid = UInt32(try r.integer($1, $2, range: 0...65_535)) },
                    "userNamespace": { $0.user.userNamespace = try r.bool($1, $2) },
                    // `auto`: a range from the reserved pool (HostIDRange), as when omitted.
                    "hostID": { $0.user.hostID = try ($1 as? String) == "auto" ? nil : UInt32(r.integer($1, $2, range: 1...4_000_000_000)) },
                    "idCount": { $0.user.idCount = UInt32(try r.integer($1, $2, range: 1...1 << 24)) },
                ])
            case "env":
                let e = try r.map(value, key, known: nil)
                for (k, v) in e {
                    // The key is the document's text: named only when it is a plain name.
                    guard !k.isEmpty, !k.contains("="), !k.contains("\0") else { throw r.error("env", "a key is not a variable name") }
                    policy.env[k] = try r.scalarText(v, r.isPlainName(k) ? "env.\(k)" : "env")
                }
            case "workdir": policy.workdir = try r.absolutePath(value, key)
            case "network":
                let n = try r.section(value, key, into: &policy, [
                    "maxConnections": { $0.network.maxConnections = try r.integer($1, $2, range: 1...65_536) },
                    "maxBytes": { $0.network.maxBytes = try r.size($1, $2) },
                    "idleTimeout": { $0.network.idleTimeout = try r.timeout($1, $2) },
                    "decider": {
                        let text = try r.string($1, $2)
                        do { _ = try DeciderTarget(text) } catch { throw r.error($2, "\(error)") }
                        $0.network.decider = text
                    },
                    "deciderTimeout": {
                        let t = try r.timeout($1, $2)
                        // A connection waits this long for its verdict: minutes would
                        // hold clients (and their connection slots) for nothing.
                        guard t <= 300 else { throw r.error($2, "at most 5m") }
                        $0.network.deciderTimeout = t
                    },
                    "upstreamCA": { $0.network.upstreamCA = try r.absolutePath($1, $2) },
                    "mode": {
                        guard let m = EgressMode(rawValue: try r.string($1, $2)) else {
                            throw r.error($2, "not one of explicit, transparent, both")
                        }
                        $0.network.mode = m
                    },
                    "allow": { _, _, _ in }, // below, after the others
                ])
                if let list = n.first(where: { $0.0 == "allow" })?.1 {
                    policy.network.allow = try r.list(list, "network.allow").enumerated().map { i, item in
                        let text = try r.string(item, "network.allow[\(i)]")
                        do { _ = try AllowRule(text) } catch {
                            // The proxy's own parser: what the policy accepts, the proxy
                            // enforces. Its message quotes the entry: not repeated here.
                            throw r.error("network.allow[\(i)]", "not a host, *.domain, host:port, address or CIDR")
                        }
                        return text
                    }
                }
            case "backend":
                let text = try r.string(value, key)
                guard let b = Policy.Backend(rawValue: text) else { throw r.error(key, "not one of native, gvisor") }
                policy.backend = b
            case "audit":
                let text = try r.string(value, key)
                if text == "best-effort" {
                    policy.auditBestEffort = true
                } else {
                    guard text.hasPrefix("/") else { throw r.error(key, "neither best-effort nor an absolute path") }
                    policy.audit = try r.absolutePath(value, key)
                }
            case "auditMode":
                let text = try r.string(value, key)
                guard text == "best-effort" || text == "required" else { throw r.error(key, "not one of required, best-effort") }
                policy.auditBestEffort = text == "best-effort"
            case "auditKey": policy.auditKey = try r.absolutePath(value, key)
            case "secrets": policy.secrets = try readSecrets(value, r)
            case "capabilities":
                policy.capabilities = try r.list(value, key).enumerated().map { i, item in
                    var name = try r.string(item, "capabilities[\(i)]").uppercased()
                    if !name.hasPrefix("CAP_") { name = "CAP_" + name }
                    guard knownCapabilities.contains(name) else { throw r.error("capabilities[\(i)]", "not a capability (CAP_CHOWN, CAP_NET_BIND_SERVICE, ...)") }
                    return name
                }
            default: // syscalls
                let text = try r.string(value, key)
                guard let p = Policy.SyscallProfile(rawValue: text) else { throw r.error(key, "not one of agent, minimal") }
                policy.syscalls = p
            }
        }
        return policy
    }

    /// `secrets:`, a list of `{name, env | file, hosts, header?}`. The value itself is
    /// never in a policy: only where to find it.
    static func readSecrets(_ value: Any, _ r: Reader) throws -> [Policy.Secret] {
        var names: Set<String> = []
        return try r.list(value, "secrets").enumerated().map { i, item in
            let field = "secrets[\(i)]"
            let m = try r.map(item, field, known: ["name", "env", "file", "hosts", "header"])
            func text(_ key: String) throws -> String? { try m.first { $0.0 == key }.map { try r.string($0.1, field + "." + key) } }
            guard let name = try text("name") else { throw r.error(field, "needs name (the variable inside the sandbox)") }
            guard r.isPlainName(name) else { throw r.error(field + ".name", "not a variable name (letters, digits, _)") }
            guard names.insert(name).inserted else { throw r.error(field + ".name", "\(name) is named by another secret") }
            let env = try text("env")
            let file = m.contains { $0.0 == "file" } ? try r.absolutePath(m.first { $0.0 == "file" }!.1, field + ".file") : nil
            guard (env == nil) != (file == nil) else {
                throw r.error(field, "needs one of env (the caller's variable) or file (a path on the host), not \(env == nil ? "neither" : "both")")
            }
            if let env, !r.isPlainName(env) { throw r.error(field + ".env", "not a variable name (letters, digits, _)") }
            guard let hostList = m.first(where: { $0.0 == "hosts" })?.1 else { throw r.error(field, "needs hosts (where the value may go)") }
            let hosts = try r.list(hostList, field + ".hosts").enumerated().map { j, h in
                let host = try r.string(h, "\(field).hosts[\(j)]")
                switch (try? AllowRule(host))?.target {
                case .host?, .subdomains?: if !host.contains(":") { return host }
                default: break
                }
                throw r.error("\(field).hosts[\(j)]", "not a host name or *.domain (no port, no address)")
            }
            guard !hosts.isEmpty else { throw r.error(field + ".hosts", "empty: name at least one host") }
            let header = try text("header")
            if let header, let problem = EgressSecret.checkHeader(header) { throw r.error(field + ".header", problem) }
            return Policy.Secret(name: name, env: env, file: file, hosts: hosts, header: header)
        }
    }

    static let knownCapabilities: Set<String> = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// Typed access to the loaded tree, with the source for error messages.
    struct Reader {
        let source: String

        func error(_ field: String, _ problem: String) -> PolicyError {
            PolicyError("policy \(source): \(field.isEmpty ? "document" : field): \(problem)")
        }

        func map(_ value: Any, _ field: String, known: Set<String>?) throws -> [(String, Any)] {
            guard let dict = value as? [String: Any] else {
                if value is [AnyHashable: Any] { throw error(field, "a key is not a string") }
                throw error(field, "must be a mapping of keys to values")
            }
            if let known {
                for key in dict.keys.sorted() where !known.contains(key) {
                    let list = known.sorted().joined(separator: ", ")
                    if known.contains(where: { Self.editDistance(key, $0) <= 2 }) {
                        let prefix = field.isEmpty ? "" : field + "."
                        throw PolicyError("policy \(source): \(prefix)\(key): unknown key (known: \(list))")
                    }
                    throw error(field, "an unknown key (known: \(list))")
                }
            }
            return dict.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }

        /// A section's keys read in order, each by its setter (`field.key` names it in
        /// errors); the setters' keys are the known ones. Returns the section's entries.
        @discardableResult
        func section(_ value: Any, _ field: String, into policy: inout Policy,
                     _ setters: [String: (inout Policy, Any, String) throws -> Void]) throws -> [(String, Any)] {
            let entries = try map(value, field, known: Set(setters.keys))
            for (key, value) in entries { try setters[key]?(&policy, value, field + "." + key) }
            return entries
        }

        func list(_ value: Any, _ field: String) throws -> [Any] {
            guard let list = value as? [Any] else { throw error(field, "must be a list") }
            return list
        }

        func string(_ value: Any, _ field: String) throws -> String {
            guard let s = value as? String else { throw error(field, "must be text") }
            return s
        }

        /// Text of a scalar of any kind (env values may be written as numbers).
        func scalarText(_ value: Any, _ field: String) throws -> String {
            switch value {
            case let s as String: return s
            case let i as Int: return String(i)
            case let d as Double: return String(d)
            case let b as Bool: return b ? "true" : "false"
            default: throw error(field, "must be text")
            }
        }

        func bool(_ value: Any, _ field: String) throws -> Bool {
            if let b = value as? Bool { return b }
            switch value as? String {
            case "true"?, "True"?, "TRUE"?: return true
            case "false"?, "False"?, "FALSE"?: return false
            default: throw error(field, "must be true or false")
            }
        }

        func integer(_ value: Any, _ field: String, range: ClosedRange<Int>) throws -> Int {
            guard let i = (value as? Int) ?? (value as? String).flatMap({ Int($0) }) else { throw error(field, "must be a whole number") }
            guard range.contains(i) else { throw error(field, "out of range \(range.lowerBound)...\(range.upperBound)") }
            return i
        }

        func size(_ value: Any, _ field: String, minimum: UInt64 = 1) throws -> UInt64 {
            let text = try scalarText(value, field)
            guard let bytes = Quantity.bytes(text) else {
                throw error(field, "not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)")
            }
            guard bytes >= minimum else { throw error(field, "below the minimum of \(Quantity.describe(bytes: minimum))") }
            return bytes
        }

        func cpus(_ value: Any, _ field: String) throws -> Double {
            let text = try scalarText(value, field)
            guard let v = Quantity.cpus(text) else { throw error(field, "not a positive number of CPUs (use 1, 0.5, 1.5)") }
            return v
        }

        /// A duration the warden can wait for (Quantity.maximumTimeout).
        func timeout(_ value: Any, _ field: String) throws -> Double {
            let text = try scalarText(value, field)
            guard let s = Quantity.seconds(text) else { throw error(field, "not a duration (use 30s, 5m, 1h30m, 250ms)") }
            guard s <= Quantity.maximumTimeout else { throw error(field, Quantity.timeoutTooLong) }
            return s
        }

        /// Whether a limit's value is the word that removes it.
        func unlimited(_ value: Any) -> Bool { (value as? String) == "unlimited" }

        /// A key safe to repeat in a message: a short identifier.
        func isPlainName(_ key: String) -> Bool {
            key.utf8.count <= 64 && key.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
        }

        /// Levenshtein distance, for telling a typo of a known key from other text.
        static func editDistance(_ a: String, _ b: String) -> Int {
            let a = Array(a.utf8), b = Array(b.utf8)
            if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
            var row = Array(0...b.count)
            for i in 1...a.count {
                var previous = row[0]
                row[0] = i
                for j in 1...b.count {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }

        func absolutePath(_ value: Any, _ field: String) throws -> String {
            let text = try string(value, field)
            guard text.hasPrefix("/"), !text.split(separator: "/").contains("..") else {
                throw error(field, "must be an absolute path without \"..\"")
            }
            return text
        }
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
