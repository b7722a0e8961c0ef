import Foundation

/// The image routes: commit of a sandbox into a named image, the list of images and
/// their removal (docs/serve.md, docs/images.md).
extension Routes {
    func imageRoute(_ r: APIRequest, shape: String, id: String) throws -> Reply {
        switch (r.method, shape) {
        case (.POST, "sandboxes/{id}/commit"):
            _ = try store.get(id)
            guard let name = try r.object().string("name"), !name.isEmpty else {
                throw APIError.badRequest(field: "name", "missing (the new image's name)")
            }
            let (image, changes) = try store.commit(id, as: name)
            return .json(.created, ["name": image.name, "layers": image.layers, "source": image.source, "changes": changes])
        case (.GET, "images"):
            return .json(.ok, ["images": try store.images.list()])
        default: // DELETE images
            guard let name = r.queryValue("name"), !name.isEmpty else {
                throw APIError.badRequest(field: "name", "missing (DELETE /v1/images?name=NAME)")
            }
            return .json(.ok, try store.images.remove(name))
        }
    }

    /// With `--images`, an image read from a host path (oci:, oci-archive:,
    /// docker-archive:) must lie under one of those directories, as a rootfs must: the
    /// service reads it as root. Registry, containers-storage and committed names are
    /// no host paths.
    func checkImageReference(_ ref: String) throws {
        guard !images.isEmpty else { return }
        for transport in ["oci:", "oci-archive:", "docker-archive:"] where ref.hasPrefix(transport) {
            var path = String(ref.dropFirst(transport.count))
            guard path.hasPrefix("/") else { throw APIError.badRequest(field: "image", "\"\(ref)\": the path is not absolute") }
            // oci:DIR:TAG: the directory is what comes before a tag, when DIR itself is no directory.
            if transport == "oci:", !FileManager.default.fileExists(atPath: path), let colon = path.lastIndex(of: ":") {
                path = String(path[..<colon])
            }
            let real = realpath(path, nil).map { p in defer { free(p) }; return String(cString: p) } ?? path
            guard images.contains(where: { real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
                throw APIError.badRequest(field: "image", "\(path) is not under \(images.joined(separator: " or ")) (--images)")
            }
        }
    }
}
