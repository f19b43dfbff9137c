// JoinGroup (11), SyncGroup (14), Heartbeat (12), LeaveGroup (13): the classic group membership
// protocol. Each request runs on the shard owning the group (groups/group_manager.h has the state
// machine); these handlers translate between the wire structs and the coordinator's calls.
#include "broker/handlers/group_routing.h"

namespace ms::broker {

boost::asio::awaitable<handler_reply> handle_join_group(request_context& ctx, protocol::any_request& body) {
    auto& request = std::get<protocol::join_group_request>(body);
    groups::join_params p;
    p.group_id = request.group_id;
    p.member_id = std::move(request.member_id);
    p.instance_id = std::move(request.group_instance_id);
    p.client_id = ctx.header.client_id.value_or("");
    p.client_host = client_host(ctx.connection);
    p.protocol_type = std::move(request.protocol_type);
    p.session_timeout_ms = request.session_timeout_ms;
    p.rebalance_timeout_ms = ctx.version >= 1 ? request.rebalance_timeout_ms : request.session_timeout_ms;
    p.member_id_required = ctx.version >= 4;
    for (auto& proto : request.protocols) {
        p.protocols.push_back({std::move(proto.name), std::move(proto.metadata)});
    }
    auto work = [p = std::move(p)](groups::group_manager& groups, auto reply) mutable {
        groups.join(std::move(p), std::move(reply));
    };
    groups::join_result r =
      co_await call_on_group<groups::join_result>(ctx.owner, request.group_id, std::move(work));
    protocol::join_group_response response;
    response.error_code = r.error;
    response.generation_id = r.generation;
    response.protocol_name = r.protocol_name.value_or("");
    response.leader = std::move(r.leader);
    response.member_id = std::move(r.member_id);
    for (auto& m : r.members) {
        auto& out = response.members.emplace_back();
        out.member_id = std::move(m.member_id);
        out.group_instance_id = std::move(m.instance_id);
        out.metadata = std::move(m.metadata);
    }
    co_return handler_reply{std::move(response)};
}

boost::asio::awaitable<handler_reply> handle_sync_group(request_context& ctx, protocol::any_request& body) {
    auto& request = std::get<protocol::sync_group_request>(body);
    groups::sync_params p;
    p.group_id = request.group_id;
    p.generation = request.generation_id;
    p.member_id = std::move(request.member_id);
    p.instance_id = std::move(request.group_instance_id);
    for (auto& a : request.assignments) {
        p.assignments.emplace_back(std::move(a.member_id), std::move(a.assignment));
    }
    auto work = [p = std::move(p)](groups::group_manager& groups, auto reply) mutable {
        groups.sync(std::move(p), std::move(reply));
    };
    groups::sync_result r =
      co_await call_on_group<groups::sync_result>(ctx.owner, request.group_id, std::move(work));
    protocol::sync_group_response response;
    response.error_code = r.error;
    response.assignment = std::move(r.assignment);
    co_return handler_reply{std::move(response)};
}

boost::asio::awaitable<handler_reply> handle_heartbeat(request_context& ctx, protocol::any_request& body) {
    auto& request = std::get<protocol::heartbeat_request>(body);
    auto work = [&request](groups::group_manager& groups, auto reply) {
        reply(groups.heartbeat(request.group_id, request.generation_id, request.member_id,
                               request.group_instance_id));
    };
    const int16_t error = co_await call_on_group<int16_t>(ctx.owner, request.group_id, std::move(work));
    protocol::heartbeat_response response;
    response.error_code = error;
    co_return handler_reply{std::move(response)};
}

boost::asio::awaitable<handler_reply> handle_leave_group(request_context& ctx, protocol::any_request& body) {
    auto& request = std::get<protocol::leave_group_request>(body);
    std::vector<groups::member_ref> members;
    if (ctx.version < 3) {
        members.push_back({request.member_id, std::nullopt});
    } else {
        for (const auto& m : request.members) {
            members.push_back({m.member_id, m.group_instance_id});
        }
    }
    auto work = [&request, &members](groups::group_manager& groups, auto reply) {
        reply(groups.leave(request.group_id, members));
    };
    groups::leave_result r =
      co_await call_on_group<groups::leave_result>(ctx.owner, request.group_id, std::move(work));
    protocol::leave_group_response response;
    if (ctx.version < 3) {
        // One member: its outcome is the answer.
        response.error_code = r.error != 0 ? r.error : r.member_errors.at(0);
    } else {
        response.error_code = r.error;
        for (size_t i = 0; i < members.size(); ++i) {
            auto& out = response.members.emplace_back();
            out.member_id = members[i].member_id;
            out.group_instance_id = members[i].instance_id;
            out.error_code = r.member_errors.at(i);
        }
    }
    co_return handler_reply{std::move(response)};
}

} // namespace ms::broker
