/// `safehouse top`: a live view of every sandbox under the root (Sources/Observe).
extension Verbs {
    public static let top = Verb(
        path: "top", abstract: "Watch every sandbox under the root, refreshed each second; stop one or all from the keyboard.",
        discussion: """
            Columns: id, policy, backend, state, age, time left, CPU over the last second (100 is one \
            core), memory against its limit, tasks against theirs, egress decisions allowed/refused \
            and bytes up/down (from the audit log's egress records, counted when a connection \
            ends), and what the sandbox wrote into its ephemeral root. Keys: up/down or j select; \
            k stops a sandbox (asks which: the selected one, j/k or arrows to choose, Enter or y \
            to stop, Esc or n to cancel); K stops all, after a y; q quits. Watching reads the \
            runtime's state, cgroups and audit logs only: no signal reaches and nothing runs in \
            a sandbox.
            """,
        flags: [
            .flag("--once", aliases: ["--batch"],
                  help: "Print the table once, as text, and exit (CPU over one second); for scripts. No terminal needed."),
        ])
}
