/// An image in the store: its name, its layers (by the digest of each uncompressed
/// layer, the OCI config's `rootfs.diff_ids`) and the parts of its config a sandbox
/// takes as defaults. Kept as `images/<sha256 of the name>.json` under the store.
public struct ImageRecord: Codable, Equatable, Sendable {
    /// As the user gives it to `--image`: a reference with its transport
    /// (`oci:/abs/dir:tag`, `docker://host/name:tag`) or a committed image's NAME.
    public var name: String
    /// Layer digests ("sha256:..."), bottom first.
    public var layers: [String]
    public var config: ImageConfig
    /// Where it came from: the reference pulled, or "commit of SANDBOX on IMAGE".
    public var source: String

    public init(name: String, layers: [String], config: ImageConfig, source: String) {
        self.name = name
        self.layers = layers
        self.config = config
        self.source = source
    }
}

/// The image config's process defaults (the OCI image-spec's `config` object), with
/// its JSON names.
public struct ImageConfig: Codable, Equatable, Sendable {
    public var env: [String]?
    public var workingDir: String?
    public var user: String?
    public var entrypoint: [String]?
    public var cmd: [String]?

    enum CodingKeys: String, CodingKey {
        case env = "Env", workingDir = "WorkingDir", user = "User", entrypoint = "Entrypoint", cmd = "Cmd"
    }

    public init(env: [String]? = nil, workingDir: String? = nil, user: String? = nil, entrypoint: [String]? = nil, cmd: [String]? = nil) {
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.entrypoint = entrypoint
        self.cmd = cmd
    }
}
