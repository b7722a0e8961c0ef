/// The names the sandbox's resolver gave out, by address: how a captured connection
/// to an address maps back to the name (and so the rule) it was looked up under. The
/// sandbox learns addresses only from the warden's answers (or writes literals, which
/// only literal-address rules admit), so this is the whole story of where its
/// addresses came from. Bounded: the oldest addresses are forgotten first.
public struct AddressBook: Sendable {
    public let capacity: Int
    var names: [IPAddress: [String]] = [:]
    var order: [IPAddress] = []

    public init(capacity: Int = 4096) { self.capacity = capacity }

    /// Remembers that `name` resolved to each of `addresses`.
    public mutating func remember(_ addresses: [IPAddress], for name: String) {
        for a in addresses {
            if var known = names[a] {
                if !known.contains(name) { known.append(name); names[a] = known }
                continue
            }
            names[a] = [name]
            order.append(a)
            if order.count > capacity {
                names[order.removeFirst()] = nil
            }
        }
    }

    /// The names `address` was given out for, oldest first.
    public func names(of address: IPAddress) -> [String] {
        names[address] ?? names[address.unmappedV4 ?? address] ?? []
    }

    public var count: Int { names.count }
}
