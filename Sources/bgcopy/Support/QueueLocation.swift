import BackgroundCopy
import Foundation

/// Where the queue database lives: `--db PATH`, else `$BGCOPY_DB`, else the per-user default
/// `$XDG_DATA_HOME/bgcopy/queue.sqlite`, falling back to `~/.local/share/bgcopy/queue.sqlite`.
///
/// A relative path is taken from the current directory. The directory is created (mode 0700)
/// if missing; the library creates the database itself with mode 0600.
struct QueueLocation: Sendable, Equatable {
    /// The absolute path of the database file.
    let path: String

    /// Resolves the path from the option and the environment, without touching the file system.
    init(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let chosen: String
        if let option, !option.isEmpty {
            chosen = option
        } else if let variable = environment["BGCOPY_DB"], !variable.isEmpty {
            chosen = variable
        } else if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            chosen = data + "/bgcopy/queue.sqlite"
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            chosen = home + "/.local/share/bgcopy/queue.sqlite"
        }
        path = Paths.absolute(chosen)
    }

    /// Creates the database's directory if it does not exist yet.
    func prepareDirectory() throws(CLIError) {
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CLIError(
                    .failure, "\(directory) is not a directory; cannot keep the queue \(path) there",
                    hint: "choose another queue with --db PATH or $BGCOPY_DB")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError(
                .failure, "cannot create the queue's directory \(directory): \(error.localizedDescription)",
                hint: "choose another queue with --db PATH or $BGCOPY_DB")
        }
    }
}

/// Path helpers for command-line input.
enum Paths {
    /// `path` made absolute against the current directory, with empty and `.` components dropped.
    /// `..` is kept: through a symbolic link it names another directory than the text suggests, so
    /// the library refuses it rather than have the command line guess.
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let full = expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        return "/" + full.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
