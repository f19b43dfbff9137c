// FindCoordinator (key 10): a single node coordinates every group itself. Clients also use this
// API's presence to decide whether the broker supports LZ4 (librdkafka 2.0.2).
#include "broker/broker.h"
#include "broker/handlers/handler.h"

namespace ms::broker {

boost::asio::awaitable<handler_reply> handle_find_coordinator(request_context& ctx,
                                                              protocol::any_request& body) {
    const auto& request = std::get<protocol::find_coordinator_request>(body);
    protocol::find_coordinator_response r;
    if (request.key_type != 0) {
        // Transaction coordinators come with transactions; until then clients must not be sent here.
        r.error_code = error_code(protocol::kafka_error::coordinator_not_available);
        r.error_message = "transactions are not supported by this broker yet";
        r.node_id = model::node_id(-1);
        r.port = -1;
        co_return handler_reply{std::move(r)};
    }
    const auto advertised = ctx.owner.advertised();
    r.node_id = model::node_id(ctx.owner.config().node_id);
    r.host = advertised.host;
    r.port = advertised.port;
    co_return handler_reply{std::move(r)};
}

} // namespace ms::broker
