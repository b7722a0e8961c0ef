import AuditChain
import FoundationEssentials
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Brings an image into the store: skopeo copies it, from whichever transport, into a
/// temporary OCI image layout (`--dest-decompress`: plain layers where it can);
/// safehouse reads that layout (three JSON documents, each checked against its
/// digest), unpacks the layers the store lacks (LayerStream, LayerUnpacker: each
/// checked against the config's diff_id) and writes the image's record. An `oci:`
/// layout is read where it is, without a copy. Registries, archives, Podman's store,
/// signature policy and credentials are all skopeo's: no registry client of
/// safehouse's own. A registry's blobs are checked against their digests by skopeo as
/// it pulls.
public struct ImageFetch {
    public let store: ImageStore
    public init(store: ImageStore) { self.store = store }

    /// The image REF names: from the store when it is there (a `--image` of a cached
    /// image runs no skopeo at all), else fetched. A local name must be in the store.
    public func resolve(_ reference: ImageReference) throws -> ImageRecord {
        if let image = try store.image(named: reference.name), image.layers.allSatisfy(store.hasLayer) { return image }
        switch reference {
        case .local(let name):
            throw ImageError("--image: no image \"\(name)\" in the store (see safehouse image ls; a reference needs its transport: \(ImageReference.transports.joined(separator: ", ")))")
        case .remote(let ref):
            return try fetch(ref)
        }
    }

    /// Imports `ref` under its own name: an `oci:` layout in place, anything else
    /// through skopeo.
    public func fetch(_ ref: String) throws -> ImageRecord {
        try store.prepare()
        if ref.hasPrefix("oci:") {
            let (layout, tag) = Self.layoutAndTag(String(ref.dropFirst(4)))
            guard Files.isDirectory(layout) else { throw ImageError("--image \(ref): \(layout) is not a directory (an OCI image layout)") }
            return try importLayout(layout, tag: tag, as: ref, source: ref)
        }
        let layout = store.scratchDirectory + "/fetch-\(getpid())-\(Int(time(nil)))"
        try? Files.removeTree(layout)
        defer { try? Files.removeTree(layout) }
        var args = ["skopeo"]
        // The containers tools' variable for another registries.conf (a registry on
        // plain HTTP is marked `insecure` there): newer skopeo reads it itself, the
        // Debian 12 one only as its --registries-conf flag.
        if let conf = getenv("CONTAINERS_REGISTRIES_CONF").map({ String(cString: $0) }), !conf.isEmpty {
            args += ["--registries-conf", conf]
        }
        args += ["copy", "--quiet", "--dest-decompress"]
        // skopeo refuses to run without a signature policy; where the host has none
        // (no containers-common), accepting anything is what having none means.
        if !Files.exists("/etc/containers/policy.json") { args.append("--insecure-policy") }
        args += [ref, "oci:" + layout + ":image"]
        _ = try ExternalTool.check("/usr/bin/skopeo", args, scratch: store.scratchDirectory, what: "--image \(ref)")
        return try importLayout(layout, tag: "image", as: ref, source: ref)
    }

    /// "DIR" or "DIR:TAG" as skopeo's oci: transport reads them: a directory that
    /// exists as a whole is the layout (its name may hold a colon).
    static func layoutAndTag(_ text: String) -> (String, String?) {
        if Files.isDirectory(text) { return (text, nil) }
        guard let colon = text.lastIndex(of: ":") else { return (text, nil) }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// Imports the image tagged `tag` in the OCI layout `layout` (its only image when
    /// `tag` is nil) as `name`.
    public func importLayout(_ layout: String, tag: String?, as name: String, source: String) throws -> ImageRecord {
        let index: OCIIndex = try document(layout + "/index.json", what: "\(name): index.json", digest: nil)
        let chosen: OCIDescriptor
        if let tag {
            guard let found = index.manifests.first(where: { $0.annotations?["org.opencontainers.image.ref.name"] == tag }) else {
                throw ImageError("\(name): the layout has no image tagged \"\(tag)\"")
            }
            chosen = found
        } else {
            guard index.manifests.count == 1, let only = index.manifests.first else {
                throw ImageError("\(name): the layout holds \(index.manifests.count) images: name one (oci:DIR:TAG)")
            }
            chosen = only
        }
        guard chosen.mediaType != "application/vnd.oci.image.index.v1+json" else {
            throw ImageError("\(name): an image index (several platforms): copy one platform out with skopeo first")
        }
        let manifest: OCIManifest = try document(try blob(layout, chosen.digest), what: "\(name): manifest", digest: chosen.digest)
        let config: OCIImageConfig = try document(try blob(layout, manifest.config.digest), what: "\(name): config",
                                                  digest: manifest.config.digest)
        let diffIDs = config.rootfs?.diff_ids ?? []
        guard diffIDs.count == manifest.layers.count else {
            throw ImageError("\(name): the manifest has \(manifest.layers.count) layers, the config's rootfs.diff_ids \(diffIDs.count)")
        }
        guard !diffIDs.isEmpty else { throw ImageError("\(name): the image has no layers") }
        for (layer, diffID) in zip(manifest.layers, diffIDs) where !store.hasLayer(diffID) {
            _ = try ImageStore.hex(of: diffID)
            try store.addLayer(blob: try blob(layout, layer.digest), digest: diffID)
        }
        let record = ImageRecord(name: name, layers: diffIDs, config: config.config ?? ImageConfig(), source: source)
        try store.save(record)
        return record
    }

    private func blob(_ layout: String, _ digest: String) throws -> String {
        layout + "/blobs/sha256/" + (try ImageStore.hex(of: digest))
    }

    /// A JSON document of the layout; when `digest` is given, its bytes must hash to it.
    private func document<T: Decodable>(_ path: String, what: String, digest: String?) throws -> T {
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: 16 << 20) } catch { throw ImageError("\(what): \(error)") }
        if let digest {
            let actual = "sha256:" + SHA256Digest.hash(bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            guard actual == digest else { throw ImageError("\(what) (\(path)): its digest is \(actual), not \(digest)") }
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw ImageError("\(what) (\(path)): not a valid document: \(error)")
        }
    }
}

/// The OCI image-spec's documents, as far as the store reads them.
struct OCIDescriptor: Decodable {
    var mediaType: String?
    var digest: String
    var size: Int64?
    var annotations: [String: String]?
}

struct OCIIndex: Decodable {
    var manifests: [OCIDescriptor]
}

struct OCIManifest: Decodable {
    var config: OCIDescriptor
    var layers: [OCIDescriptor]
}

struct OCIImageConfig: Decodable {
    struct RootFS: Decodable { var diff_ids: [String]? }
    var config: ImageConfig?
    var rootfs: RootFS?
}
