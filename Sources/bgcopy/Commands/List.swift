import ArgumentParser
import BackgroundCopy

/// `bgcopy list`: the groups with their progress (bitsadmin /list).
///
/// Without `--all`, groups that are complete are left out (they stay in the queue until
/// cancelled); `--all` lists every live group. Cancelled groups are tombstones and never listed.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the groups that still have work (with --all: every live group).")

    @OptionGroup var queue: QueueOptions

    @Flag(help: "Also list complete groups.")
    var all = false

    @Flag(help: "Print a JSON array of groups (see README).")
    var json = false

    func run() throws {
        let manager = try queue.openExisting()
        let groups = try GroupSnapshot.all(manager).filter { all || $0.status.state != .complete }
        let rates = groups.contains { $0.status.state == .transferring } ? try EventRates.recent(manager) : [:]
        let rate = { (snapshot: GroupSnapshot) in snapshot.status.state == .transferring ? rates[snapshot.id] : nil }
        if json {
            Console.line(JSONValue.array(groups.map { .object(JSONModels.group($0, rate: rate($0))) }).render(pretty: true))
            return
        }
        guard !groups.isEmpty else {
            Console.line(all ? "no groups" : "no groups with work left (--all lists complete ones too)")
            return
        }
        var table = Table([
            .init(header: "ID"), .init(header: "NAME", maxWidth: 32), .init(header: "STATE"), .init(header: "PRIORITY"),
            .init(header: "FILES", alignment: .right), .init(header: "BYTES", alignment: .right),
            .init(header: "RATE", alignment: .right),
        ])
        for group in groups {
            let progress = group.progress
            table.append([
                Format.short(group.id), group.properties.displayName, group.status.state.rawValue,
                group.properties.priority.description, "\(progress.filesDone)/\(progress.filesTotal)",
                "\(Format.bytes(progress.bytesDone))/\(Format.bytes(progress.bytesTotal))", Format.rate(rate(group)),
            ])
        }
        table.render().forEach(Console.line)
    }
}
