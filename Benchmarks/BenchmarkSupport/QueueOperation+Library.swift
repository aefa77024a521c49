import BackgroundCopy

extension QueueOperation {
    /// One sample of the operation through the library's API.
    func library(_ manager: QueueManager, _ subject: Subject) throws(QueueError) -> Step {
        let group = try manager.group(subject.group)
        let job = try group.job(subject.job)
        let ledger = manager.transferLedger
        let properties = GroupProperties(displayName: "benchmark")
        switch self {
        case .createGroup:
            return Step(run: { _ = try! manager.createGroup(properties: properties) })
        case .addFiles1, .addFiles100:
            var batch: [FileSpec] = []
            let count = self == .addFiles1 ? 1 : 100
            return Step(prepare: { batch = subject.names.specs(count) }, run: { try! job.addFiles(batch) })
        case .resume:
            return Step(prepare: { try! group.suspend() }, run: { try! group.resume() })
        case .status:
            return Step(run: { _ = try! group.status() })
        case .progress:
            return Step(run: { _ = try! group.progress() })
        case .claimNextFile:
            var claimed: Int64 = 0
            return Step(
                run: { claimed = try! ledger.claimNextFile()!.fileRowID },
                finish: {
                    _ = try! ledger.beginFinalizing(claimed, bytesTotal: 65536)
                    try! ledger.complete(claimed)
                })
        case .checkpoint:
            let file = subject.claimedFile!
            var bytes: UInt64 = 0
            return Step(prepare: { bytes += 65536 }, run: { _ = try! ledger.checkpoint(file, bytesDone: bytes, bytesTotal: nil, validator: nil) })
        case .completeFile:
            var claimed: Int64 = 0
            return Step(
                prepare: {
                    claimed = try! ledger.claimNextFile()!.fileRowID
                    _ = try! ledger.beginFinalizing(claimed, bytesTotal: 65536)
                },
                run: { try! ledger.complete(claimed) })
        case .cancel100:
            var doomed: Group?
            return Step(
                prepare: {
                    doomed = try! manager.createGroup(properties: properties)
                    try! doomed!.createJob().addFiles(subject.names.specs(100))
                },
                run: { try! doomed!.cancel() })
        case .enumerate:
            return Step(run: { _ = try! manager.groups() })
        }
    }
}
