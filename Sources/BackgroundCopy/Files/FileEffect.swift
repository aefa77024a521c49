/// A file-system change that follows a committed transaction (DESIGN.md, Durability steps 4–5).
///
/// Effects are idempotent: applying one twice, or after a crash half-way, ends in the same place.
/// The database already says what the files should be; an effect only makes the disk agree.
struct FileEffect: Sendable, Equatable {
    enum Action: Sendable, Equatable {
        /// Remove the temp file of a discarded file.
        case removeTemp
        /// Finish the rename of a file cancelled while finalizing (its bytes were verified): temp → local.
        case finishRename
    }

    let fileRowID: Int64
    let action: Action
    let tempPath: String
    let localPath: String

    /// Applies every effect, then fsyncs each directory touched once. Returns the row IDs of the
    /// files whose effect is done; failures are logged and left for recovery at the next open.
    static func apply(_ effects: [FileEffect], core: QueueCore) -> [Int64] {
        var done: [Int64] = []
        var directories: Set<String> = []
        for effect in effects {
            do throws(QueueError) {
                switch effect.action {
                case .removeTemp:
                    try core.fileSystem.unlink(effect.tempPath)
                case .finishRename:
                    if try core.fileSystem.kind(of: effect.tempPath) != nil {
                        try core.fileSystem.rename(effect.tempPath, to: effect.localPath)
                    }
                }
                directories.insert(effect.tempPath.parentDirectory)
                done.append(effect.fileRowID)
            } catch {
                core.logger.info("file clean-up deferred to the next open", metadata: ["error": "\(error)"])
            }
        }
        for directory in directories.sorted() {
            do throws(QueueError) {
                try core.fileSystem.fsyncDirectory(directory)
            } catch {
                core.logger.info("directory fsync failed after clean-up", metadata: ["error": "\(error)"])
            }
        }
        return done
    }
}
