using EfficientNet.Batch.Models.Checkpoints;
using static EfficientNet.Batch.Models.Tests.Checkpoints.PickleBytes;

namespace EfficientNet.Batch.Models.Tests.Checkpoints;

public sealed class UnsafeCheckpointTests
{
    [Theory]
    [InlineData("malicious_plain.pkl")] // a bare pickle renamed to look like weights
    [InlineData("malicious_legacy.pth")] // torch legacy format, payload inside the state dict
    [InlineData("malicious_zip.pth")] // torch zip format, payload after a valid tensor
    public void Shell_command_payload_is_refused_by_name_and_never_runs(string fixture)
    {
        var marker = CheckpointFixtures.Expected.PwnedMarker;
        File.Delete(marker);

        var ex = Assert.Throws<UnsafeCheckpointException>(() => CheckpointReader.Read(CheckpointFixtures.PathOf(fixture)));

        Assert.Equal("posix.system", ex.GlobalName); // os.system pickles under its real module on Linux
        Assert.Contains("'posix.system'", ex.Message);
        Assert.False(File.Exists(marker), $"{marker} exists: the payload ran.");
    }

    [Theory]
    [InlineData("builtins", "eval")]
    [InlineData("builtins", "exec")]
    [InlineData("os", "system")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch.storage", "_load_from_bytes")] // allowed by torch.load, but it unpickles again without our checks
    [InlineData("torch._utils", "_rebuild_tensor")] // near-miss of an allowed name
    [InlineData("collections", "OrderedDict.fromkeys")]
    [InlineData("torch", "FloatStorage ")]
    public void Any_global_off_the_allow_list_is_refused(string module, string name)
    {
        var pickle = CallWithString(Global(module, name), "touch /tmp/effnet_pickle_pwned");

        var ex = Assert.Throws<UnsafeCheckpointException>(() => CheckpointReader.Read(new MemoryStream(pickle)));

        Assert.Equal($"{module}.{name}", ex.GlobalName);
    }

    [Fact]
    public void Protocol_4_stack_global_goes_through_the_same_allow_list()
    {
        var pickle = Of([0x80, 0x04], StackGlobal("builtins", "eval"), ShortUnicode("1+1"), Op((byte)0x85), Op('R'), Stop);

        var ex = Assert.Throws<UnsafeCheckpointException>(() => CheckpointReader.Read(new MemoryStream(pickle)));

        Assert.Equal("builtins.eval", ex.GlobalName);
    }

    [Fact]
    public void Allow_listed_storage_class_is_a_marker_and_cannot_be_called()
    {
        var pickle = Of(Protocol2, Global("torch", "FloatStorage"), Op(')'), Op('R'), Stop);

        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(new MemoryStream(pickle)));

        Assert.Contains("torch.FloatStorage", ex.Message);
    }
}
