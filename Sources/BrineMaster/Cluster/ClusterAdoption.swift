import BrineCluster
import BrineCore
import BrineWire
import Foundation

/// What a master kept alone before `cluster_database` was set joins the
/// cluster's once: its minion keys (else its whole fleet would wait for
/// acceptance again) and the monitor's checks. Its job cache and pings stay
/// in its own SQLite file (`brine jobs` on it shows the cluster's).
///
/// Once means once per master, recorded in the database with what was
/// added (`brine_adoptions`, in the same transaction), and never for a
/// master that served the cluster before (a master upgraded to this version
/// has a `pki_dir` as old as the day it joined: keys deleted since would
/// come back). A file per cluster database in `pki_dir`/`cachedir` also
/// says so (`AdoptionMarker`): a start after a `master_id` change does not
/// add them again either.
extension ClusterNode {
    /// Before the key snapshot is read (`prepare`).
    func adoptKeys(of local: KeyStore) async throws {
        let marker = AdoptionMarker(path: local.pkiDir + "/cluster_keys_adopted", database: database.url)
        guard !marker.isDone else { return }
        if servedBefore {
            logger.info("cluster: master \(database.master) served this cluster before: pki_dir's keys are not added again")
        } else {
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
            if let adoption = try await withTimeout(15, { [store, keys] in try await store.adopt(keys) }) { report(adoption) }
        }
        do {
            try marker.markDone()
        } catch {
            logger.warning("\(error) (the cluster's database records it too)")
        }
    }

    private func report(_ adoption: ClusterKeys.Adoption) {
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
    }

    /// As the keys, for the monitor's checks (a task of its own beside the
    /// master's work: the database may be away for a while). Gives up after
    /// ten tries a minute apart at most.
    func adoptChecks(of local: LocalMonitorStore) async {
        let marker = AdoptionMarker(path: (opts.string("cachedir") ?? "/var/cache/brine/master") + "/cluster_checks_adopted", database: database.url)
        guard !marker.isDone, !servedBefore else { return }
        let cluster = ClusterMonitorStore(database: database)
        for attempt in 1...10 {
            do {
                let checks = try local.allChecks()
                if let added = try await withTimeout(30, { try await cluster.adopt(checks) }), added > 0 {
                    logger.info("cluster: added \(added) of this master's monitor checks to the cluster's")
                }
                do { try marker.markDone() } catch { logger.warning("\(error) (the cluster's database records it too)") }
                return
            } catch {
                guard attempt < 10, !Task.isCancelled else {
                    logger.error("cluster: this master's monitor checks were not added: \(error); they will be tried again at the next start")
                    return
                }
                logger.warning("cluster: adding this master's monitor checks: \(error); trying again")
                try? await Task.sleep(for: .seconds(min(60, 5 * attempt)))
            }
        }
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
