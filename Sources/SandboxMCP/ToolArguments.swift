import MCP

/// A tool call's arguments, read by type; a wrong or missing one fails with a line that
/// starts with the argument's name (the tool error the model reads).
struct ToolArguments {
    let values: [String: Value]

    struct Problem: Error, CustomStringConvertible { let description: String }

    static func problem(_ name: String, _ text: String) -> Problem { Problem(description: "\(name): \(text)") }

    private func present(_ name: String) -> Value? {
        guard let v = values[name], !v.isNull else { return nil }
        return v
    }

    func string(_ name: String) throws -> String? {
        guard let v = present(name) else { return nil }
        switch v {
        case .string(let s): return s
        default: throw Self.problem(name, "must be a string")
        }
    }

    func requiredString(_ name: String, _ hint: String) throws -> String {
        guard let s = try string(name) else { throw Self.problem(name, "missing (\(hint))") }
        return s
    }

    func strings(_ name: String) throws -> [String]? {
        guard let v = present(name) else { return nil }
        guard let list = v.arrayValue else { throw Self.problem(name, "must be an array of strings") }
        return try list.map {
            guard let s = $0.stringValue else { throw Self.problem(name, "must be an array of strings") }
            return s
        }
    }

    func stringMap(_ name: String) throws -> [String: String] {
        guard let v = present(name) else { return [:] }
        guard let object = v.objectValue else { throw Self.problem(name, "must be an object of strings") }
        var out: [String: String] = [:]
        for (k, value) in object {
            guard let s = value.stringValue else { throw Self.problem("\(name).\(k)", "must be a string") }
            if k.isEmpty || k.contains("=") || k.utf8.contains(0) { throw Self.problem("\(name).\(k)", "not a valid variable name") }
            out[k] = s
        }
        return out
    }

    /// Seconds, more than 0 and at most `max`.
    func seconds(_ name: String, max: Double) throws -> Double? {
        guard let v = present(name) else { return nil }
        let n: Double
        switch v {
        case .int(let i): n = Double(i)
        case .double(let d): n = d
        default: throw Self.problem(name, "must be a number of seconds")
        }
        guard n > 0, n <= max else { throw Self.problem(name, "must be more than 0 and at most \(Int(max)) seconds") }
        return n
    }

    /// Names that are not arguments of the tool: refused, so a typo is not silently ignored.
    func unknown(allowed: [String]) -> String? {
        values.keys.sorted().first { !allowed.contains($0) }
    }
}
