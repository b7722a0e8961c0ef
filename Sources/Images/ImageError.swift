/// Every failure of the image store, in one line that names the image, layer or path
/// (and the field, where an image document is wrong).
public struct ImageError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
