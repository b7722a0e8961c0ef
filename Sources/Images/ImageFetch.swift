import FoundationEssentials
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Brings an image into the store: skopeo copies it, from whichever transport, into a
/// temporary OCI image layout with its layers decompressed (`--dest-decompress`);
/// safehouse reads that layout (three JSON documents), checks each layer's content
/// against the config's diff_id, unpacks the layers the store lacks (LayerUnpacker)
/// and writes the image's record. Registries, archives, Podman's store, signatures
/// and credentials are all skopeo's: no registry client of safehouse's own. Blob
/// digests of a registry's manifest are checked by skopeo as it pulls.
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

    /// Copies `ref` with skopeo and imports it under its own name.
    public func fetch(_ ref: String) throws -> ImageRecord {
        try store.prepare()
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

    /// Imports the image tagged `tag` in the OCI layout `layout` (uncompressed layers)
    /// as `name`.
    public func importLayout(_ layout: String, tag: String, as name: String, source: String) throws -> ImageRecord {
        let index: OCIIndex = try document(layout + "/index.json", what: "\(name): index.json")
        let chosen = index.manifests.first { $0.annotations?["org.opencontainers.image.ref.name"] == tag } ?? index.manifests.first
        guard let manifestDescriptor = chosen else { throw ImageError("\(name): index.json lists no manifest") }
        let manifest: OCIManifest = try document(try blob(layout, manifestDescriptor.digest), what: "\(name): manifest")
        let config: OCIImageConfig = try document(try blob(layout, manifest.config.digest), what: "\(name): config")
        let diffIDs = config.rootfs?.diff_ids ?? []
        guard diffIDs.count == manifest.layers.count else {
            throw ImageError("\(name): the manifest has \(manifest.layers.count) layers, the config's rootfs.diff_ids \(diffIDs.count)")
        }
        for (layer, diffID) in zip(manifest.layers, diffIDs) where !store.hasLayer(diffID) {
            _ = try ImageStore.hex(of: diffID)
            let path = try blob(layout, layer.digest)
            let tar = try decompressed(path, into: layout + "/layer.tar")
            try store.addLayer(tar: tar, digest: diffID)
            if tar != path { try Files.remove(tar) }
        }
        let record = ImageRecord(name: name, layers: diffIDs, config: config.config ?? ImageConfig(), source: source)
        try store.save(record)
        return record
    }

    /// The layer blob at `path` as a plain tar: itself, or decompressed into `temporary`
    /// by gzip or zstd, told apart by their magic bytes (skopeo keeps a layout's
    /// compressed blobs as they are when it copies one layout into another).
    private func decompressed(_ path: String, into temporary: String) throws -> String {
        let head = (try? FileDescriptor.open(path, O_RDONLY).read(upTo: 4)) ?? []
        let tool: String
        if head.starts(with: [0x1f, 0x8b]) {
            tool = "/bin/gzip"
        } else if head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) {
            tool = "/usr/bin/zstd"
        } else {
            return path
        }
        let name = tool.split(separator: "/").last.map(String.init) ?? tool
        _ = try ExternalTool.check(tool, [name, "-dc", "--", path], scratch: store.scratchDirectory,
                                   what: "decompressing layer \(path)", stdoutPath: temporary)
        return temporary
    }

    private func blob(_ layout: String, _ digest: String) throws -> String {
        layout + "/blobs/sha256/" + (try ImageStore.hex(of: digest))
    }

    private func document<T: Decodable>(_ path: String, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(try Files.read(path, limit: 16 << 20)))
        } catch let error as SystemError {
            throw ImageError("\(what): \(error)")
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
