import BrineCluster
import BrineCore
import BrineWire
import Foundation

/// What a master kept alone before `cluster_database` was set joins the
/// cluster's once: its minion keys (else its whole fleet would wait for
/// acceptance again) and the monitor's checks. Its job cache and pings stay
/// in its own SQLite file (`brine jobs` on it shows the cluster's).
extension ClusterNode {
    /// Once per cluster database: the keys this master kept in `pki_dir`
    /// before `cluster_database` was set join the cluster's, so its minions
    /// are not all pending again (`ClusterKeys.adopt`: what the cluster
    /// already says of an id wins). `pki_dir/cluster_keys_adopted` names the
    /// databases done: a restart must not bring back a key deleted in the
    /// cluster since.
    func adoptKeys(of local: KeyStore) async throws {
        let marker = AdoptionMarker(path: local.pkiDir + "/cluster_keys_adopted", database: database.url)
        guard !marker.isDone else { return }
        var keys: [(id: String, status: KeyStore.Status, key: [UInt8])] = []
        for status in [KeyStore.Status.accepted, .pending, .rejected] {
            for id in local.list(status) {
                do {
                    keys.append((id, status, Array(try local.publicKey(id, in: status).rawRepresentation)))
                } catch {
                    logger.warning("\(local.directory(status))/\(LogText.escape(id)): \(error); not added to the cluster")
                }
            }
        }
        let adoption = try await withTimeout(15) { [store, keys] in try await store.adopt(keys) }
        let added = [(KeyStore.Status.accepted, "accepted"), (.pending, "pending"), (.rejected, "rejected")].compactMap { status, word in
            adoption.added[status].map { "\($0) \(word)" }
        }
        if !added.isEmpty { logger.info("cluster: added pki_dir's keys to the cluster's: \(added.joined(separator: ", "))") }
        if !adoption.differing.isEmpty {
            logger.warning("""
                cluster: kept the cluster's section or key for \(adoption.differing.map(LogText.escape).joined(separator: ", ")): \
                pki_dir has another (brine key -L lists the cluster's)
                """)
        }
        do {
            try marker.markDone()
        } catch {
            logger.error("\(error): pki_dir's keys would be added again at the next start (keys deleted in the cluster since would come back)")
        }
    }

    /// Once per cluster database, as the keys: the checks this master's
    /// monitor had alone (`cachedir/cluster_checks_adopted`). A check the
    /// cluster has (the same id, or the same URL: two masters that watched
    /// one site) is not added twice. Their pings stay here; the poller
    /// tests them again. Tries again every 5 s while the database is away.
    func adoptChecks(of local: some MonitorStore, into cluster: some MonitorStore) async {
        let marker = AdoptionMarker(path: (opts.string("cachedir") ?? "/var/cache/brine/master") + "/cluster_checks_adopted", database: database.url)
        while !marker.isDone, !Task.isCancelled {
            let added: Int
            do {
                added = try await Self.copyChecks(from: local, to: cluster)
            } catch {
                logger.warning("cluster: adding this master's monitor checks: \(error); trying again in 5 s")
                try? await Task.sleep(for: .seconds(5))
                continue
            }
            if added > 0 { logger.info("cluster: added \(added) of this master's monitor checks to the cluster's") }
            do {
                try marker.markDone()
            } catch {
                logger.error("\(error): this master's checks would be added again at the next start")
            }
            return
        }
    }

    /// The checks of `local` that `cluster` has neither by id nor by URL, oldest first; how many.
    static func copyChecks(from local: some MonitorStore, to cluster: some MonitorStore) async throws -> Int {
        var added = 0
        for check in try await local.allChecks().sorted(by: { $0.created < $1.created }) {
            guard try await cluster.check(check.id) == nil, try await cluster.check(url: check.url) == nil else { continue }
            try await cluster.save(check)
            added += 1
        }
        return added
    }
}


/// A file naming the cluster databases something local was added to once
/// (one `host:port/database` a line), so that it is not added again: what
/// the cluster deleted since must stay deleted.
struct AdoptionMarker {
    let path: String
    let database: DatabaseURL

    /// How the database is named in the file (not its user or password).
    var line: String { "\(database.host):\(database.port)/\(database.database)" }

    var lines: [Substring] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n")
    }

    var isDone: Bool { lines.contains { $0 == line } }

    func markDone() throws(BrineError) {
        try AtomicFile.write((lines.map(String.init) + [line]).joined(separator: "\n") + "\n", to: path, mode: 0o600)
    }
}
