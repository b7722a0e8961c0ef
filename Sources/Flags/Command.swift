/// A verb's body: made from the command line as the parser read it against the verb's
/// declaration (Verbs*.swift), then run. Flags are read by their long name; their
/// defaults come from the declaration. Each executable calls its commands through a
/// switch on the verb, not through this protocol's existential: no dynamic dispatch on
/// the `run` path.
public protocol Command {
    init(_ arguments: ParsedArguments) throws
    func run() throws
}
