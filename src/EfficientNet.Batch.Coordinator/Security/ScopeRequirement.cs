using Microsoft.AspNetCore.Authorization;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>The caller needs <see cref="Scope"/> (or <c>admin</c>). Each scope is a policy of the same name.</summary>
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;

public sealed class ScopeRequirementHandler : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true && context.User.HasScope(requirement.Scope))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
