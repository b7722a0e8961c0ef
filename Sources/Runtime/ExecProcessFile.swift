import ContainerCore
import FoundationEssentials

/// `exec --process FILE`: runc reads the file into Go's specs.Process, where an absent
/// `user` is the zero value, uid 0 gid 0, and shims write process.json without it. The
/// runtime spec requires `user` in a config's process, so OCI.Process does too: the
/// exec path supplies runc's default before decoding.
enum ExecProcessFile {
    private struct UserProbe: Decodable {
        let hasUser: Bool
        private enum Keys: String, CodingKey { case user }
        init(from decoder: any Decoder) throws {
            hasUser = try decoder.container(keyedBy: Keys.self).contains(.user)
        }
    }

    /// The file's bytes, with `"user":{"uid":0,"gid":0}` added when the object has no
    /// `user` member. Anything that is not a JSON object is returned as it is, for the
    /// decoder to refuse with its own message.
    static func withDefaultUser(_ bytes: [UInt8]) -> [UInt8] {
        guard let probe = try? JSONDecoder().decode(UserProbe.self, from: Data(bytes)), !probe.hasUser,
              let open = bytes.firstIndex(of: UInt8(ascii: "{")) else { return bytes }
        let rest = bytes[(open + 1)...]
        let empty = rest.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "}")
        let member = "\"user\":{\"uid\":0,\"gid\":0}" + (empty ? "" : ",")
        return Array(bytes[...open]) + Array(member.utf8) + Array(rest)
    }
}
