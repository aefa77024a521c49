import Logging

/// The file-system side of the ``Reconciler``, which needs no database: applies the effects that
/// follow a commit (remove a temp file, finish a rename), so an engine on any backend cleans up
/// the same way.
struct TempFiles {
    let fileSystem: any FileSystem
    let logger: Logger

    /// Applies every effect, then fsyncs each directory touched once. Returns the row IDs of the
    /// files whose effect is done; failures are logged and left for recovery at the next open.
    @discardableResult
    func apply(_ effects: [FileEffect]) -> [Int64] {
        var done: [Int64] = []
        var directories: Set<String> = []
        for effect in effects {
            do throws(QueueError) {
                switch effect.action {
                case .removeTemp:
                    try fileSystem.unlink(effect.tempPath)
                case .finishRename:
                    if try fileSystem.kind(of: effect.tempPath) == .regular {
                        try publish(effect.tempPath)
                        try fileSystem.rename(effect.tempPath, to: effect.localPath)
                    }
                }
                directories.insert(effect.tempPath.parentDirectory)
                done.append(effect.fileRowID)
            } catch {
                logger.info("file clean-up deferred to the next open", metadata: ["error": "\(error)"])
            }
        }
        for directory in directories.sorted() {
            do throws(QueueError) {
                try fileSystem.fsyncDirectory(directory)
            } catch {
                logger.info("directory fsync failed after clean-up", metadata: ["error": "\(error)"])
            }
        }
        return done
    }

    /// Removes the temp file of a file that failed for good with nothing worth keeping in it (a
    /// SHA-256 mismatch, a 404): it would otherwise stay in the user's directory as long as the
    /// group is in error. A resume creates it again.
    func removeFailedTemp(fileRowID: Int64, tempPath: String, localPath: String) {
        apply([FileEffect(fileRowID: fileRowID, action: .removeTemp, tempPath: tempPath, localPath: localPath)])
    }

    /// Gives a verified temp file, about to be renamed into place, the mode of a new file.
    func publish(_ temp: String) throws(QueueError) {
        let file = try fileSystem.open(temp, exclusive: false)
        defer { fileSystem.close(file) }
        try fileSystem.setMode(file, FileMode.newFile)
    }
}
