extension Array where Element == String {
    /// The elements with `separator` between them, as `joined(separator:)` gives.
    ///
    /// For the container's start-up path: the standard library's `joined(separator:)`
    /// on [String] is its generic StringProtocol version, unspecialized, whose first
    /// call resolves associated-type witnesses at run time (perf put 4% of an init's
    /// set-up there, for the mount data strings).
    public func joinedBy(_ separator: String) -> String {
        var result = ""
        for (i, element) in enumerated() {
            if i > 0 { result += separator }
            result += element
        }
        return result
    }
}
