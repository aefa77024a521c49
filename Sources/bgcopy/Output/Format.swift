import BackgroundCopy
import Foundation

/// How values look in tables, bars and log lines (JSON output uses plain numbers instead).
enum Format {
    /// `512 B`, `1.5 KiB`, `12.0 MiB`, `3.2 GiB`.
    static func bytes(_ count: UInt64) -> String {
        if count < 1024 { return "\(count) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f", value) + " " + units[unit]
    }

    /// `512 KiB/s`, or `-` when there is no rate.
    static func rate(_ bytesPerSecond: Double?) -> String {
        guard let bytesPerSecond, bytesPerSecond > 0 else { return "-" }
        return bytes(UInt64(bytesPerSecond.rounded())) + "/s"
    }

    /// `0:42`, `12:03`, `1:02:03`, or `-` when unknown.
    static func clock(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 100 * 86_400 else { return "-" }
        let whole = Int(seconds.rounded(.up))
        let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }

    /// Seconds with one decimal: `3.2 s`.
    static func elapsed(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", seconds)
    }

    /// A duration as the command line takes it: `7d`, `10m`, `45s`, `1h30m`, `0s`.
    static func duration(_ duration: Duration) -> String {
        var milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        where milliseconds >= size {
            text += "\(milliseconds / size)\(unit)"
            milliseconds %= size
        }
        return text
    }

    /// The first 8 characters of an ID: enough to name a group on the command line.
    static func short(_ id: GroupID) -> String { String(id.description.prefix(8)) }

    /// `text` as a POSIX shell would need it to read it back as one word: as is when it holds only
    /// safe characters, else in single quotes (for display only: commands never go through a shell).
    static func shellQuoted(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
        if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A remote name for human eyes: the query string (which may hold a signature or token) elided.
    static func remote(_ remote: String) -> String {
        guard let question = remote.firstIndex(of: "?") else { return remote }
        return remote[..<question] + "?…"
    }

    /// A percentage bar of `width` cells: `[#######.......]`.
    static func bar(_ percent: Int, width: Int) -> String {
        let cells = max(1, width - 2)
        let filled = min(cells, max(0, percent * cells / 100))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: cells - filled) + "]"
    }

    /// `text` cut to `width` characters, ending in `…` when cut.
    static func fit(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 1 else { return String(text.prefix(width)) }
        return text.prefix(width - 1) + "…"
    }

    /// ISO 8601 in UTC with milliseconds: `2025-01-31T12:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// Local wall-clock time for log lines: `12:00:01`.
    /// Reads the time zone through `localtime_r`: no formatter is built for each line.
    static func time(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return [parts.tm_hour, parts.tm_min, parts.tm_sec].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ":")
    }
}
