import BackgroundCopy
import Foundation

/// The terminal display of `run`, `download` and `monitor`: a header, then one bar per group
/// and, under a transferring group, one bar for the file it is transferring; redrawn in place.
///
/// ```
/// bgcopy run: 1 group active, 512.0 KiB/s (Ctrl-C stops)
/// nightly mirror      transferring  [#######.............]  37%  1.5 MiB/4.0 MiB  512.0 KiB/s  ETA 0:05
///   part0.bin                       [#######.............]  37%  1.5 MiB/4.0 MiB  512.0 KiB/s  ETA 0:05
/// ```
struct ProgressDisplay {
    private var block = RedrawingBlock()
    private var rates = FrameRates()

    /// Records the frame's samples and redraws it under `header`.
    mutating func update(_ frame: LiveFrame, header: (FrameRates) -> String) {
        rates.record(frame)
        block.draw([header(rates)] + lines(frame))
    }

    /// Draws the last frame, then the summary lines below it, and gives the cursor back.
    mutating func finish(_ frame: LiveFrame, header: String, summary: [String]) {
        rates.record(frame)
        block.draw([header] + lines(frame))
        block.end()
        summary.forEach(Console.line)
    }

    func lines(_ frame: LiveFrame) -> [String] {
        var lines: [String] = []
        for group in frame.groups {
            let progress = group.progress
            lines.append(
                row(
                    name: group.properties.displayName, state: group.status.state.rawValue,
                    percent: progress.percent, done: progress.bytesDone,
                    total: progress.filesOfUnknownSize == 0 ? progress.bytesTotal : nil,
                    rate: rates.rate(group), eta: rates.eta(group)))
            if let file = frame.files[group.id] {
                let name = (file.file.local as NSString).lastPathComponent
                lines.append(
                    row(
                        name: "  " + name, state: "", percent: file.percent, done: file.file.bytesDone,
                        total: file.file.bytesTotal ?? file.file.sizeHint, rate: rates.rate(file), eta: rates.eta(file)))
            }
            if group.status.state == .error, let failure = group.status.lastError {
                lines.append("  error: " + failure.error.message)
            }
        }
        return lines
    }

    private func row(name: String, state: String, percent: Int, done: UInt64, total: UInt64?, rate: Double?, eta: Double?) -> String {
        let bytes = Format.bytes(done) + "/" + (total.map(Format.bytes) ?? "?")
        return [
            pad(Format.fit(name, 24), 24), pad(state, 12), Format.bar(percent, width: 22),
            padLeft("\(percent)%", 4), padLeft(bytes, 21), padLeft(Format.rate(rate), 12), "ETA " + Format.clock(eta),
        ].joined(separator: " ")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
