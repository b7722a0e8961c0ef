/// `safehouse image ls|rm|prune` and `agent commit`: the image store (docs/images.md).
extension Verbs {
    public static let imageLs = Verb(
        path: "image ls", abstract: "List the images in the store with their layers and sizes.",
        discussion: """
        SIZE is what the image's layers take on disk; UNIQUE is what removing the image \
        alone would free (layers no other image uses). The last line counts the store's \
        layers once each, and what no image uses (image prune removes it).
        """,
        flags: [.option("--format", value: "text|json", default: "text", help: "Output format: text or json.")])

    public static let imageRm = Verb(
        path: "image rm", abstract: "Remove images from the store, and the layers no other image uses.",
        arguments: [Verb.Argument(name: "name", help: "The image's name, as image ls prints it.")],
        trailing: Verb.Trailing(name: "names", help: "More images to remove.", start: .afterArguments))

    public static let imagePrune = Verb(
        path: "image prune", abstract: "Remove the layers no image uses, and what interrupted fetches left.")

    public static let agentCommit = Verb(
        path: "agent commit", abstract: "Make a kept sandbox's change set a new image: its image plus one layer.",
        discussion: """
        The sandbox must have run with agent run --image REF --keep; its root's change set \
        (created, modified and deleted paths) becomes a layer on top of its image, under \
        NAME, usable at once by agent run --image NAME. The change set is printed.
        """,
        arguments: [Verb.Argument(name: "id", help: "The sandbox's id (agent run --id)."),
                    Verb.Argument(name: "name", help: "The new image's name (letters, digits and ._-/:).")])
}
