/// Names the proxy resolves without DNS, in /etc/hosts form (`ADDRESS NAME...`, `#`
/// comments). The sandbox has no resolver of its own; the operator (not the policy)
/// may give the warden such a mapping, which is how the tests build a fake internet.
/// A mapped address still goes through the address policy.
public struct HostsMapping: Sendable, Equatable {
    public private(set) var addresses: [String: [IPAddress]] = [:]

    public init() {}

    public init(text: String) {
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let address = IPAddress(String(fields[0])) else { continue }
            for name in fields.dropFirst() { addresses[name.lowercased(), default: []].append(address) }
        }
    }

    public func lookup(_ name: String) -> [IPAddress]? { addresses[name.lowercased()] }
}
