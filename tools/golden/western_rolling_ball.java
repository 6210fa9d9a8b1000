// Dev-only golden maker for trkres.assays.western.background.rolling_ball (issue 15).
// Runs ImageJ's own BackgroundSubtracter (the code behind Process > Subtract Background) on
// 16-bit TIFFs, headless (the menu/macro route needs a display), and writes the created
// background ("Create background (don't subtract)") as a 16-bit TIFF, as the menu does.
// Usage: java -Djava.awt.headless=true -cp ij.jar:. western_rolling_ball IN OUT RADIUS LIGHT(0|1) SMOOTH(0|1)
import ij.IJ;
import ij.ImagePlus;
import ij.io.FileSaver;
import ij.plugin.filter.BackgroundSubtracter;

public class western_rolling_ball {
    public static void main(String[] args) {
        ImagePlus imp = IJ.openImage(args[0]);
        double radius = Double.parseDouble(args[2]);
        boolean light = args[3].equals("1");
        boolean smooth = args[4].equals("1");
        // (ip, radius, createBackground, lightBackground, useParaboloid, doPresmooth, correctCorners)
        new BackgroundSubtracter().rollingBallBackground(imp.getProcessor(), radius, true, light, false, smooth, true);
        new FileSaver(imp).saveAsTiff(args[1]);
        System.out.println(IJ.getVersion());
    }
}
