import ArgumentParser
import BackgroundCopy
import Foundation

/// `bgcopy monitor` (bitsadmin /monitor): a live view of the queue while another process runs
/// the engine, refreshed every second. It only reads: it never transfers or changes a group.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch the queue live (refreshed every second) while another process runs the engine.",
        discussion: "On a terminal the view is redrawn in place; otherwise each refresh prints a table. Ctrl-C exits with 130.")

    @OptionGroup var queue: QueueOptions

    @Flag(help: "Also show complete groups.")
    var all = false

    @Option(help: "Exit (with 0) after this many refreshes.")
    var count: Int?

    @Option(help: ArgumentHelp("Seconds between refreshes (default 1).", valueName: "seconds"))
    var interval: Double = 1

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1, not \(count)") }
        guard interval >= 0.2, interval <= 3600 else { throw ValidationError("--interval must be 0.2 to 3600 seconds, not \(interval)") }
    }

    func run() async throws {
        let manager = try queue.openExisting()
        let trap = SignalTrap()
        defer { trap.restore() }
        let bars = Console.isTerminal
        var display = ProgressDisplay()
        var rates = FrameRates()
        var refreshes = 0
        var frame = LiveFrame()
        while trap.caught == nil {
            frame = try LiveFrame.read(manager, scope: nil) { all || $0.status.state != .complete }
            refreshes += 1
            if bars {
                display.update(frame) { rates in header(frame, rate: rates.total(frame)) }
            } else {
                rates.record(frame)
                printTable(frame, rates: rates)
            }
            if let count, refreshes >= count { break }
            let deadline = ContinuousClock.now + .milliseconds(Int64(interval * 1000))
            while trap.caught == nil && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        if bars { display.finish(frame, header: header(frame, rate: nil), summary: []) }
        if let signal = trap.exitStatus { throw ExitCode(signal.rawValue) }
    }

    private func header(_ frame: LiveFrame, rate: Double?) -> String {
        let active = frame.groups.filter(\.isActive).count
        return "bgcopy monitor \(Format.time(Date())): \(frame.groups.count) group\(frame.groups.count == 1 ? "" : "s"), "
            + "\(active) active" + (rate.map { ", " + Format.rate($0) } ?? "") + " (Ctrl-C exits)"
    }

    /// One refresh as plain text: a header line and a table like `list`'s, then a blank line.
    private func printTable(_ frame: LiveFrame, rates: FrameRates) {
        Console.line(header(frame, rate: rates.total(frame)))
        var table = Table([
            .init(header: "ID"), .init(header: "NAME", maxWidth: 32), .init(header: "STATE"),
            .init(header: "FILES", alignment: .right), .init(header: "BYTES", alignment: .right),
            .init(header: "RATE", alignment: .right), .init(header: "ETA", alignment: .right),
        ])
        for group in frame.groups {
            table.append([
                Format.short(group.id), group.properties.displayName, group.status.state.rawValue,
                "\(group.progress.filesDone)/\(group.progress.filesTotal)",
                "\(Format.bytes(group.progress.bytesDone))/\(Format.bytes(group.progress.bytesTotal))",
                Format.rate(rates.rate(group)), Format.clock(rates.eta(group)),
            ])
        }
        if !frame.groups.isEmpty { table.render().forEach(Console.line) }
        Console.line("")
    }
}
