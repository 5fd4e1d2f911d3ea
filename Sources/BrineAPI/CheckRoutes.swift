import BrineCore
import BrineMaster
import Foundation
import HTTPTypes
import Hummingbird

/// The uptime app's check and ping routes, under `/api`.
struct CheckRoutes: Sendable {
    let store: any MonitorStore

    func add(to router: Router<MasterRequestContext>) {
        let api = router.group("api")
        api.get("checks") { request, _ in
            Answer.json(.list(try await store.checks(tag: request.uri.queryParameters.get("tag")).map(\.asValue)))
        }
        api.get("checks/count") { _, _ in
            let counts = try await store.counts()
            return Answer.json(["up": .int(counts.up), "down": .int(counts.down), "paused": .int(counts.paused), "total": .int(counts.total)])
        }
        api.get("checks/:id") { _, context in
            guard let check = try await store.check(checkID(context)) else { return notFound }
            return Answer.json(check.asValue)
        }
        api.get("checks/:id/pause") { _, context in
            let id = checkID(context)
            guard let check = try await store.check(id) else { return notFound }
            var fields = CheckFields()
            fields.isPaused = !check.isPaused
            _ = try await store.update(id, fields)
            return Response(status: .seeOther, headers: [.location: "/api/checks/\(id)"])
        }
        api.get("checks/:id/pings") { request, context in
            let id = checkID(context)
            guard try await store.check(id) != nil else { return notFound }
            return Answer.json(.list(try await store.pings(check: id, limit: 50, offset: page(request) * 50).map(\.asValue)))
        }
        api.get("pings") { request, _ in
            Answer.json(.list(try await store.pings(check: request.uri.queryParameters.get("check").map(Self.wellFormed), limit: 50, offset: page(request) * 50).map(\.asValue)))
        }
        api.put("checks") { request, context in
            do {
                let fields = try CheckFields(try await Answer.body(request, context: context))
                return Answer.json(try await store.create(fields).asValue)
            } catch let error as BrineError {
                return Answer.error(error.message, status: .badRequest)
            }
        }
        api.post("checks/:id") { request, context in
            do {
                let fields = try CheckFields(try await Answer.body(request, context: context))
                guard let check = try await store.update(checkID(context), fields) else { return notFound }
                return Answer.json(check.asValue)
            } catch let error as BrineError {
                return Answer.error(error.message, status: .badRequest)
            }
        }
        api.delete("checks/:id") { _, context in
            let id = checkID(context)
            guard try await store.delete(id) else { return notFound }
            return Answer.json(["_id": .string(id), "deleted": true])
        }
    }

    var notFound: Response { Answer.error("No such check", status: .notFound) }

    /// The path's check id, or "" (no check has it) when it is not one this
    /// API makes: whatever a client puts in a path (a NUL, which PostgreSQL's
    /// text refuses) never reaches a store.
    func checkID(_ context: MasterRequestContext) -> String {
        Self.wellFormed(context.parameters.get("id") ?? "")
    }

    static func wellFormed(_ id: String) -> String {
        Check.isWellFormedID(id) ? id : ""
    }

    func page(_ request: Request) -> Int {
        // Clamped: `page * 50` must not overflow for a page number a client sent.
        min(1_000_000, max(0, (request.uri.queryParameters.get("page").flatMap { Int($0) } ?? 1) - 1))
    }
}
