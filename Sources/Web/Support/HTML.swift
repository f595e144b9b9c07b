import Hummingbird

/// An HTML page as a response, with cookies to set.
struct HTML: ResponseGenerator {
    var html: String
    var status: HTTPResponse.Status = .ok
    var cookies: [Cookie] = []
    /// Pages behind a secret link or a login are never kept by caches.
    var privatePage = false

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.cacheControl] = privatePage ? "no-store" : "no-cache"
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}

extension Response {
    /// `303 See Other`: after a form, the browser loads `location` with GET, so reloading does not post again.
    static func seeOther(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}
