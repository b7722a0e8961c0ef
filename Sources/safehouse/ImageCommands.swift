import Agent
import Flags
import Images
import Linux
import OCI

/// `safehouse image ls|rm|prune` and `agent commit ID NAME`: the image store that
/// `agent run --image` fills (Sources/Images, docs/images.md).
extension Commands {
    /// `image ls [--format text|json]`.
    static func imageLs(_ a: ParsedArguments) throws {
        let format = a.value("--format")
        guard format == "text" || format == "json" else { throw CLIError("--format: unknown format \"\(format)\" (use text or json)") }
        let store = try ImageStore.configured()
        let images = try store.images()
        var sizes: [String: UInt64] = [:]
        for layer in store.layers() { sizes[layer] = store.size(ofLayer: layer) }
        // How many images use each layer: a layer used by one image is that image's alone.
        var users: [String: Int] = [:]
        for image in images { for layer in Set(image.layers) { users[layer, default: 0] += 1 } }
        let rows = images.map { image -> (ImageRecord, UInt64, UInt64) in
            let layers = Set(image.layers)
            return (image, layers.reduce(0) { $0 + (sizes[$1] ?? 0) }, layers.filter { users[$0] == 1 }.reduce(0) { $0 + (sizes[$1] ?? 0) })
        }
        let total = sizes.values.reduce(0, +)
        let unused = sizes.filter { users[$0.key] == nil }.values.reduce(0, +)
        if format == "json" {
            func q(_ s: String) -> String { FlatJSONWriter.quoted(s) }
            let items = rows.map { image, size, unique in
                "{\"name\":\(q(image.name)),\"layers\":[\(image.layers.map(q).joined(separator: ","))],\"size\":\(size),\"unique\":\(unique),\"source\":\(q(image.source))}"
            }
            print("{\"images\":[\(items.joined(separator: ","))],\"layers\":\(sizes.count),\"bytes\":\(total),\"unusedBytes\":\(unused)}")
            return
        }
        let width = max(4, rows.map { $0.0.name.count }.max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        print(pad("NAME", width) + "  LAYERS  " + pad("SIZE", 9) + "  UNIQUE")
        for (image, size, unique) in rows {
            print(pad(image.name, width) + "  " + pad(String(image.layers.count), 6) + "  " + pad(human(size), 9) + "  " + human(unique))
        }
        print("layer store: \(sizes.count) layer\(sizes.count == 1 ? "" : "s"), \(human(total)) (\(human(unused)) used by no image)")
    }

    /// 1.2M, 340K, 512B: one decimal, binary units.
    static func human(_ bytes: UInt64) -> String {
        for (unit, size) in [("G", UInt64(1) << 30), ("M", UInt64(1) << 20), ("K", UInt64(1) << 10)] where bytes >= size {
            let tenths = (bytes * 10 + size / 2) / size
            return "\(tenths / 10).\(tenths % 10)\(unit)"
        }
        return "\(bytes)B"
    }

    /// `image rm NAME...`.
    static func imageRm(_ a: ParsedArguments) throws {
        let store = try ImageStore.configured()
        for name in a.arguments + a.trailing {
            let (removed, held) = try store.remove(image: name)
            print("removed \(name) (\(removed.count) layer\(removed.count == 1 ? "" : "s") freed)")
            for layer in held { writeStderr("safehouse: image rm: layer \(layer) is in use by a running sandbox; image prune removes it later\n") }
        }
    }

    /// `image prune`: the layers no image uses.
    static func imagePrune(_ a: ParsedArguments) throws {
        let store = try ImageStore.configured()
        let (removed, held) = try store.prune()
        for (layer, _) in removed { print("removed layer \(layer)") }
        for layer in held { writeStderr("safehouse: image prune: layer \(layer) is in use by a running sandbox\n") }
        print("freed \(human(removed.reduce(0) { $0 + $1.1 })) (\(removed.count) layer\(removed.count == 1 ? "" : "s"))")
    }

    /// `agent commit ID NAME`: a kept sandbox's changes as a new image.
    static func agentCommit(_ a: ParsedArguments) throws {
        let (id, name) = (a.arguments[0], a.arguments[1])
        let store = try ImageStore.configured()
        let (image, kept) = try KeptChanges.commit(store, id: id, as: name)
        let e = TerminalText.escaped
        print("\(e(name)): \(image.layers.count) layers, the new one \(image.layers.last ?? "") on \(e(kept.image.name))")
        print("changes (\(kept.changes.count)):")
        for line in kept.changes { print("  " + e(line)) }
    }
}
