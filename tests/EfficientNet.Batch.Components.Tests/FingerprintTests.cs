using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Tests;

public sealed class FingerprintTests
{
    private static readonly DateTimeOffset Monday = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Content_md5_decides_when_both_have_one_even_if_the_etag_changed()
    {
        var before = new ImageFingerprint("e1", "md5a", 10, Monday);
        Assert.True(before.SameContentAs(before with { ETag = "e2", Modified = Monday.AddDays(1) }));
        Assert.False(before.SameContentAs(before with { ContentMd5 = "md5b" }));
    }

    [Fact]
    public void Without_md5_the_etag_and_size_decide()
    {
        var before = new ImageFingerprint("e1", null, 10, Monday, "sha");
        Assert.True(before.SameContentAs(new ImageFingerprint("e1", null, 10, Monday)));
        Assert.False(before.SameContentAs(new ImageFingerprint("e2", null, 10, Monday)));
        Assert.False(before.SameContentAs(new ImageFingerprint("e1", null, 11, Monday)));
        Assert.False(new ImageFingerprint(null, null, 10, Monday).SameContentAs(new ImageFingerprint(null, null, 10, Monday)));
    }

    [Fact]
    public void The_worker_adds_a_sha256_of_the_bytes_unless_a_content_md5_identifies_them()
    {
        var listed = new ImageFingerprint("e1", null, 3, Monday);
        Assert.Equal("039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81", Fingerprints.Complete(listed, [1, 2, 3]).Sha256);
        Assert.Null(Fingerprints.Complete(listed with { ContentMd5 = "x" }, [1, 2, 3]).Sha256);
        Assert.Equal(3, Fingerprints.Complete(null, [1, 2, 3]).Size);
    }

    [Fact]
    public void A_model_identity_names_what_differs()
    {
        var b0 = new Preprocessing(224, "imagenet", [1f, 2f, 3f], [4f, 5f, 6f]);
        var identity = new ModelIdentity("efficientnet_b0", "sha256:aa", b0);
        Assert.Null(identity.DifferenceFrom(identity with { Preprocessing = b0 with { Mean = [1f, 2f, 3f] } }));
        Assert.Contains("weights", identity.DifferenceFrom(identity with { Weights = "sha256:bb" }), StringComparison.Ordinal);
        Assert.Contains("model", identity.DifferenceFrom(identity with { ModelId = "efficientnet_b1" }), StringComparison.Ordinal);
        Assert.Contains("preprocessing", identity.DifferenceFrom(identity with { Preprocessing = b0 with { Resolution = 240 } }), StringComparison.Ordinal);
    }
}
